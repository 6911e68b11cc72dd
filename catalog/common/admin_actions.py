"""Admin actions a user may not run are refused out loud, and a service's refusal is told."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied

from erp1688.refusals import PermissionRefused, Refused


class RefusingActionsMixin:
    """An action the user may not run (its `allowed_permissions`) is refused with the styled 403
    page; Django alone would ignore the POST with "No action selected"."""

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and "action" in request.POST:
            name = request.POST.get("action", "")
            declared = {action_name for _func, action_name, _desc in self._get_base_actions()}
            if name in declared and name not in self.get_actions(request):
                raise PermissionDenied
        return super().changelist_view(request, extra_context)

    def _refusal(
        self, request, refused: Refused, prefix: str = "", level: int = messages.ERROR
    ) -> None:
        if isinstance(refused, PermissionRefused):
            raise refused
        self.message_user(request, f"{prefix}{refused.message}", level)
