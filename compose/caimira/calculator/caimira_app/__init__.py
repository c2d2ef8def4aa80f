"""CAiMIRA, reduced to what the wiring needs: the calculator UI (cern_caimira) and the
standalone model API (caimira), both tornado apps as in production."""
