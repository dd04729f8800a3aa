from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer, error_responses
from core.api_defaults import AnonRateThrottle

from . import two_factor
from .lockout import refuse_if_locked_out
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
            # The login lockout refuses even the right password: say so, and until when.
            refuse_if_locked_out(
                self.context["request"], username=attrs.get("username"), now=timezone.now()
            )
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


LOCKOUT_RESPONSE = OpenApiResponse(
    ErrorSerializer,
    description=(
        "`throttled`: too many requests from this address. `too_many_login_attempts`: too many "
        "failed logins for this username (from any address) or from this address (with any "
        "username); until the lockout ends every login is refused, the right password too. The "
        "message says when to try again, and `Retry-After` in how many seconds."
    ),
)
RETRY_AFTER_HEADER = OpenApiParameter(
    name="Retry-After",
    type=int,
    location=OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before trying again.",
)


class TokenView(ObtainAuthToken):
    # Credentials are the whole request: a stale session or token must not get in the way, and
    # guessing passwords is throttled per address and locked out per username and address
    # (accounts.lockout).
    authentication_classes = []
    throttle_classes = [AnonRateThrottle]
    parser_classes = [JSONParser, FormParser]
    serializer_class = TokenObtainSerializer

    @extend_schema(
        operation_id="auth_token_create",
        summary="Exchange a username and password for an API token",
        tags=["auth"],
        request=TokenObtainSerializer,
        responses={200: TokenResponseSerializer, **error_responses(400), 429: LOCKOUT_RESPONSE},
        parameters=[RETRY_AFTER_HEADER],
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
