"""The clinic's webhook endpoints and their deliveries (clinicians of the clinic only:
staff and patients get 403, another clinic's endpoint is a 404)."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.permissions import CLINICIAN, RolePermission
from clinic.services import client_address
from webhooks import services
from webhooks.api.serializers import DeliverySerializer, EndpointSerializer, NewEndpointSerializer
from webhooks.models import Delivery, Endpoint
from webhooks.selectors import clinic_endpoints, endpoint_deliveries


class ClinicianOnly:
    permission_classes = [RolePermission]
    read_roles = {CLINICIAN}
    write_roles = {CLINICIAN}


class EndpointList(ClinicianOnly, generics.ListAPIView):
    """The clinic's webhook endpoints. POST registers one; its answer carries the signing
    `secret`, shown this once."""

    serializer_class = EndpointSerializer

    def get_queryset(self):
        return clinic_endpoints(self.request.user)

    @extend_schema(request=EndpointSerializer, responses={201: NewEndpointSerializer})
    def post(self, request):
        serializer = EndpointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(
            clinic_id=request.user.clinic_id,
            by=request.user,
            address=client_address(request),
            **serializer.validated_data,
        )
        return Response(NewEndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetail(ClinicianOnly, APIView):
    """One endpoint: PATCH its `url`, `events` or `is_active` (switching it on again clears
    the failures that switched it off); DELETE it with its delivery log."""

    def _endpoint(self, request, pk: int) -> Endpoint:
        return generics.get_object_or_404(clinic_endpoints(request.user), pk=pk)

    @extend_schema(responses=EndpointSerializer)
    def get(self, request, pk: int):
        return Response(EndpointSerializer(self._endpoint(request, pk)).data)

    @extend_schema(request=EndpointSerializer, responses=EndpointSerializer)
    def patch(self, request, pk: int):
        endpoint = self._endpoint(request, pk)
        serializer = EndpointSerializer(endpoint, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data:
            endpoint = services.endpoint_update(
                endpoint=endpoint,
                by=request.user,
                address=client_address(request),
                **serializer.validated_data,
            )
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        services.endpoint_delete(
            endpoint=self._endpoint(request, pk), by=request.user, address=client_address(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryList(ClinicianOnly, generics.ListAPIView):
    """Each event sent to the endpoint, newest first, with each of its tries: when, the
    receiver's status code, how long it took, what went wrong."""

    serializer_class = DeliverySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delivery.objects.none()
        return endpoint_deliveries(self.request.user, self.kwargs["pk"])


class DeliveryReplay(ClinicianOnly, APIView):
    """Tries the delivery again now, under the same webhook-id, whatever its status."""

    @extend_schema(request=None, responses={202: DeliverySerializer})
    def post(self, request, pk: int, delivery_id: int):
        delivery = generics.get_object_or_404(endpoint_deliveries(request.user, pk), pk=delivery_id)
        if not delivery.endpoint.is_active:
            raise ValidationError(
                {"is_active": ["The endpoint is switched off: switch it on, then replay."]}
            )
        delivery = services.delivery_replay(delivery=delivery)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
