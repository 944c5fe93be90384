from drf_spectacular.utils import OpenApiParameter
from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


# For the schema of a view that pages its answer itself (an APIView, not a ListAPIView).
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="A page number, from 1."),
    OpenApiParameter(
        "page_size",
        int,
        description=f"Rows per page (at most {PageNumberPagination.max_page_size}).",
    ),
]
