"""Settings (everyone) and administration (admins) pages. They render the page shells and
what the scripts need to know; every change goes through /api/v1 from the browser."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from apps.accounts.models import ROLE_ADMIN, User
from apps.siteconfig.registry import KNOWN
from apps.teams.models import Team
from apps.web.access import page, web_user
from apps.web.catalog import CATEGORIES
from apps.web.webhook_texts import webhook_texts
from tools import registry

# Runtime settings the page knows by name: label and help (others are shown by their key).
SETTING_TEXTS = {
    "disabledTools": (
        N_("Disabled tools"),
        N_("Checked tools answer 403 and are marked disabled in the tool grid."),
    ),
    "enableExperimentalTools": (
        N_("Show experimental tools"),
        N_("Experimental tools appear in the grid and the API."),
    ),
    "loginAttemptLimit": (
        N_("Failed sign-ins before a pause"),
        N_("From 0 (no limit) to 1000 failed attempts per address before sign-in is paused."),
    ),
    "customLogo": (N_("Custom logo"), N_("Set on the Branding page.")),
}

# The administration's sections: (id, path, tab label).
ADMIN_TABS = [
    ("overview", "/admin", N_("Overview")),
    ("users", "/admin/users", N_("Users")),
    ("teams", "/admin/teams", N_("Teams")),
    ("settings", "/admin/settings", N_("Runtime settings")),
    ("branding", "/admin/branding", N_("Branding")),
    ("models", "/admin/models", N_("Models")),
    ("system", "/admin/system", N_("System")),
]


def ui_texts() -> dict[str, str]:
    """Texts the settings and administration scripts show ({n}-style placeholders)."""
    return {
        "save": _("Save"),
        "cancel": _("Cancel"),
        "delete": _("Delete"),
        "close": _("Close"),
        "never": _("Never"),
        "yes": _("Yes"),
        "no": _("No"),
        "edit": _("Edit"),
        "rename": _("Rename"),
        "resetPassword": _("Reset password"),
        "editUser": _("Edit {name}"),
        "renameTeam": _("Rename team {name}"),
        "resetPasswordFor": _("Reset the password of {name}"),
        "resetDone": _("Password reset: {name} must choose a new one at the next sign-in."),
        "newPassword": _("New password"),
        "role": _("Role"),
        "team": _("Team"),
        "name": _("Name"),
        "roleAdmin": _("Administrator"),
        "roleUser": _("User"),
        "mustChange": _("Must change password"),
        "active": _("Active"),
        "status": _("Status"),
        "you": _("you"),
        "defaultTeam": _("Default"),
        "membersLabel": _("Members"),
        "confirmDeleteUser": _("Delete the user {name}? Their files and jobs are deleted too."),
        "confirmDeleteKey": _("Delete the API key {name}? Programs using it stop working."),
        "confirmDeleteTeam": _("Delete the team {name}?"),
        "confirmRemoveLogo": _("Remove the logo? The Pixelsmith mark is shown instead."),
        "confirmDeleteModel": _("Delete the files of {name}? It can be downloaded again."),
        "userCreated": _("User {name} created"),
        "teamCreated": _("Team {name} created"),
        "keyCreated": _("API key created"),
        "noKeys": _("No API keys yet."),
        "owner": _("Owner"),
        "key": _("Key"),
        "created": _("Created"),
        "lastUsed": _("Last used"),
        "noUsers": _("No users."),
        "noTeams": _("No teams."),
        "installed": _("Installed"),
        "missing": _("Missing"),
        "corrupt": _("Corrupt"),
        "loaded": _("Loaded on {where}"),
        "download": _("Download"),
        "install": _("Install"),
        "downloadModel": _("Download {name}"),
        "importFile": _("Import a file"),
        "importFileFor": _("Import a file for {name}"),
        "imported": _("Imported {file}"),
        "load": _("Load"),
        "loadModel": _("Load {name}"),
        "unload": _("Unload"),
        "unloadModel": _("Unload {name}"),
        "unloading": _("{name} is unloaded within {s} s"),
        "deleteModel": _("Delete {name}"),
        "modelReady": _("{name} is installed"),
        "modelLoadedOk": _("{name} loaded"),
        "jobFailed": _("The job failed: {message}"),
        "nonCommercial": _("non-commercial use only"),
        "sourcePackage": _("Shipped with Pixelsmith"),
        "sourceDownload": _("Downloaded on demand"),
        "sourceSystem": _("System package"),
        "usedBy": _("Used by"),
        "task": _("Task"),
        "engine": _("Engine"),
        "size": _("Size"),
        "licence": _("Licence"),
        "source": _("Source"),
        "howToInstall": _("How to install"),
        "neededBy": _("Needed by {tool}"),
        "focusNote": _("The models {tool} uses are listed first and marked “Needed by {tool}”."),
        "ok": _("OK"),
        "warn": _("Warning"),
        "fail": _("Failed"),
        "fix": _("Fix"),
        "health_ok": _("Healthy"),
        "health_warn": _("Warnings"),
        "health_fail": _("Problems found"),
        "available": _("Available"),
        "unavailable": _("Not available"),
        "noGpu": _("No GPU"),
        "cores": _("{n} cores"),
        "cpu": _("CPU"),
        "memory": _("Memory (free / total)"),
        "gpus": _("GPUs"),
        "os": _("System"),
        "queueText": _("{waiting} waiting, {running} running"),
        "openModels": _("Models for {tool}"),
        "logoTooLarge": _("The logo must be {kb} KB or smaller"),
        "logoUploaded": _("Logo uploaded. Reload to see it in the header."),
        "logoRemoved": _("Logo removed"),
        "logoAlt": _("The uploaded logo"),
        "removeLogo": _("Remove logo"),
        "noLogo": _("No logo uploaded: the Pixelsmith mark is shown."),
        "settingsSaved": _("Settings saved"),
        "managedElsewhere": _("Managed on its own page"),
        "disabledCount": _("{n} disabled"),
    }


def admin_context(tab: str, **extra: Any) -> dict[str, Any]:
    """What every administration page needs: the tabs, the active one, the texts."""
    tabs = [{"id": t, "href": href, "label": _(label)} for t, href, label in ADMIN_TABS]
    return {"admin_tabs": tabs, "admin_tab": tab, "admin_texts": ui_texts(), **extra}


def team_options() -> list[dict[str, str]]:
    """Teams for the user forms' selects, default first."""
    Team.default()
    teams = Team.objects.order_by("-is_default", "name")
    return [{"id": str(t.id), "name": t.name} for t in teams]


@page
def settings_page(request: HttpRequest) -> HttpResponse:
    """The signed-in user's account and API keys."""
    user = web_user(request)
    context = {"account": user, "admin_texts": ui_texts(), "auth_enabled": settings.AUTH_ENABLED}
    context["webhook_texts"] = webhook_texts()
    return render(request, "web/settings.html", context)


@page(admin=True)
def overview(request: HttpRequest) -> HttpResponse:
    """The administration's first page: counts and links to every section."""
    counts = {
        "users": User.objects.count(),
        "admins": User.objects.filter(role=ROLE_ADMIN).count(),
        "teams": Team.objects.count(),
        "tools": len(registry.all_tools()),
    }
    context = admin_context("overview", counts=counts, version=settings.VERSION)
    return render(request, "web/admin_overview.html", context)


@page(admin=True)
def users(request: HttpRequest) -> HttpResponse:
    context = admin_context(
        "users", teams=team_options(), me=str(getattr(web_user(request), "pk", ""))
    )
    return render(request, "web/admin_users.html", context)


@page(admin=True)
def teams(request: HttpRequest) -> HttpResponse:
    return render(request, "web/admin_teams.html", admin_context("teams"))


def setting_fields() -> list[dict[str, Any]]:
    """Each known runtime setting: key, label, help, whether it can be changed here."""
    fields = []
    for key, known in KNOWN.items():
        label, help_text = SETTING_TEXTS.get(key, (key, known.help))
        fields.append(
            {"key": key, "label": _(label), "help": _(help_text), "writable": known.writable}
        )
    return fields


def tool_choices() -> list[dict[str, Any]]:
    """Every tool by category, for the disabled-tools checklist."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for tool in registry.all_tools():
        entry = {"id": tool.id, "name": tool.name, "experimental": tool.experimental}
        groups.setdefault(tool.category, []).append(entry)
    order = list(CATEGORIES) + sorted(set(groups) - set(CATEGORIES))
    return [
        {"id": key, "name": str(CATEGORIES.get(key, key.title())), "tools": groups[key]}
        for key in order
        if key in groups
    ]


@page(admin=True)
def runtime_settings(request: HttpRequest) -> HttpResponse:
    data = {"fields": setting_fields(), "toolGroups": tool_choices()}
    return render(request, "web/admin_settings.html", admin_context("settings", page_data=data))


@page(admin=True)
def branding(request: HttpRequest) -> HttpResponse:
    context = admin_context("branding", logo_max_kb=settings.LOGO_MAX_KB)
    return render(request, "web/admin_branding.html", context)


@page(admin=True)
def models(request: HttpRequest) -> HttpResponse:
    """The model catalog; ?for=<tool id> puts the models that tool needs first."""
    wanted = request.GET.get("for", "")
    tool = registry.get(wanted) if wanted else None
    focus = {"toolId": tool.id, "toolName": tool.name} if tool else None
    names = {t.id: t.name for t in registry.all_tools()}
    data = {"focus": focus, "toolNames": names}
    return render(request, "web/admin_models.html", admin_context("models", page_data=data))


@page(admin=True)
def system(request: HttpRequest) -> HttpResponse:
    names = {t.id: t.name for t in registry.all_tools()}
    context = admin_context("system", version=settings.VERSION, tool_names=names)
    return render(request, "web/admin_system.html", context)
