"""A Wells-Riley estimate of the probability of airborne infection in a room: a stand-in for
CAiMIRA's model with the same shape of inputs and report."""
import math

# Quanta emitted per hour by one infected person, by activity (orders of magnitude from the
# Wells-Riley literature).
EMISSION = {"seated": 10.0, "speaking": 50.0, "light-exercise": 100.0}
BREATHING = {"seated": 0.54, "speaking": 0.6, "light-exercise": 1.38}  # m³/h


class InvalidInput(ValueError):
    pass


def number(form, name, low, high):
    try:
        value = float(form[name])
    except (KeyError, TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number") from None
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}")
    return value


def report(form):
    """The inputs as the calculator form sends them, and the estimate."""
    activity = form.get("activity", "seated")
    if activity not in EMISSION:
        raise InvalidInput(f"activity must be one of {', '.join(sorted(EMISSION))}")
    volume = number(form, "room_volume", 1, 100_000)
    air_changes = number(form, "air_changes", 0.1, 100)
    hours = number(form, "exposure_hours", 0.1, 24)
    infected = number(form, "infected_people", 1, 100)
    mask = 0.5 if form.get("mask_wearing") in ("1", "true", True) else 1.0
    ventilation = volume * air_changes
    dose = infected * EMISSION[activity] * mask * BREATHING[activity] * mask * hours / ventilation
    return {
        "inputs": {
            "activity": activity,
            "room_volume": volume,
            "air_changes": air_changes,
            "exposure_hours": hours,
            "infected_people": infected,
            "mask_wearing": mask < 1,
        },
        "inhaled_quanta": round(dose, 6),
        "probability_of_infection": round(1 - math.exp(-dose), 6),
    }
