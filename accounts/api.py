from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from core.api import error_responses

from . import two_factor
from .selectors import user_roles


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    roles = serializers.ListField(
        child=serializers.CharField(), help_text="Staff roles (Django groups) the user holds."
    )
    time_zone = serializers.CharField(help_text="IANA time zone, for showing times to the user.")
    suspended = serializers.BooleanField(help_text="A suspended user can read but not act.")


class MeView(APIView):
    @extend_schema(
        operation_id="me_retrieve",
        summary="The logged-in user",
        tags=["auth"],
        responses={200: MeSerializer, **error_responses(401, 429)},
    )
    def get(self, request):
        user = request.user
        return Response(
            MeSerializer(
                {
                    "id": user.pk,
                    "username": user.username,
                    "roles": user_roles(user=user),
                    "time_zone": user.time_zone,
                    "suspended": user.is_suspended,
                }
            ).data
        )


class TokenObtainSerializer(AuthTokenSerializer):
    def validate(self, attrs):
        try:
            attrs = super().validate(attrs)
        except serializers.ValidationError:
            raise serializers.ValidationError(
                _("Unable to log in with provided credentials."), code="invalid_credentials"
            ) from None
        if settings.STAFF_2FA_REQUIRED and two_factor.is_staff_account(attrs["user"]):
            raise serializers.ValidationError(
                two_factor.STAFF_TOKEN_REFUSED, code="staff_token_refused"
            )
        return attrs


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text='Send it as the header "Authorization: Token <key>".')


class TokenView(ObtainAuthToken):
    # Credentials are the whole request: a stale session or token must not get in the way, and
    # guessing passwords is throttled per address.
    authentication_classes = []
    throttle_classes = [AnonRateThrottle]
    parser_classes = [JSONParser, FormParser]
    serializer_class = TokenObtainSerializer

    @extend_schema(
        operation_id="auth_token_create",
        summary="Exchange a username and password for an API token",
        tags=["auth"],
        request=TokenObtainSerializer,
        responses={200: TokenResponseSerializer, **error_responses(400, 429)},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
