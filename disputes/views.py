from django.http import Http404


def refund_request_detail(request, pk):
    raise Http404


dispute_detail = evidence_download = support_case_detail = refund_request_detail
