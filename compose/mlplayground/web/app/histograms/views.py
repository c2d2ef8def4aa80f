from django.http import JsonResponse

from histograms.models import DataFile, LumisectionHistogram1D


def files(request):
    rows = DataFile.objects.order_by("filepath")
    return JsonResponse(
        {"results": [{"filepath": f.filepath, "status": f.status, "entries": f.entries_processed} for f in rows]}
    )


def histograms(request):
    rows = LumisectionHistogram1D.objects.select_related("lumisection").order_by(
        "lumisection__run_number", "lumisection__ls_number", "title"
    )
    if "run" in request.GET:
        rows = rows.filter(lumisection__run_number=int(request.GET["run"]))
    if "title" in request.GET:
        rows = rows.filter(title=request.GET["title"])
    return JsonResponse(
        {
            "results": [
                {
                    "run": h.lumisection.run_number,
                    "lumi": h.lumisection.ls_number,
                    "title": h.title,
                    "entries": h.entries,
                }
                for h in rows[:500]
            ]
        }
    )
