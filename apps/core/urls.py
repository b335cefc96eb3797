from django.urls import path

from apps.accounts import views as accounts
from apps.apikeys import views as apikeys
from apps.branding import views as branding
from apps.core import views as core
from apps.jobs import sse
from apps.jobs import views as jobs
from apps.library import views as library
from apps.pipelines import views as pipelines
from apps.siteconfig import views as siteconfig
from apps.teams import views as teams
from apps.toolsapi import views as toolsapi

auth_urls = [
    path("login", accounts.LoginView.as_view()),
    path("logout", accounts.LogoutView.as_view()),
    path("session", accounts.SessionView.as_view()),
    path("change-password", accounts.ChangePasswordView.as_view()),
    path("users", accounts.UsersView.as_view()),
    path("register", accounts.RegisterView.as_view()),
    path("users/<uuid:user_id>", accounts.UserDetailView.as_view()),
    path("users/<uuid:user_id>/reset-password", accounts.ResetPasswordView.as_view()),
]

v1_urls = [
    path("health", core.HealthView.as_view()),
    path("api-keys", apikeys.ApiKeysView.as_view()),
    path("api-keys/<uuid:key_id>", apikeys.ApiKeyDetailView.as_view()),
    path("teams", teams.TeamsView.as_view()),
    path("teams/<uuid:team_id>", teams.TeamDetailView.as_view()),
    path("settings", siteconfig.SettingsView.as_view()),
    path("settings/<str:key>", siteconfig.SettingDetailView.as_view()),
    path("branding/logo", branding.LogoView.as_view()),
    path("jobs", jobs.JobListView.as_view()),
    path("jobs/<uuid:job_id>", jobs.JobDetailView.as_view()),
    path("jobs/<uuid:job_id>/download", jobs.JobDownloadView.as_view()),
    path("jobs/<uuid:job_id>/cancel", jobs.JobCancelView.as_view()),
    path("jobs/<uuid:job_id>/progress", sse.progress),
    path("upload", library.UploadView.as_view()),
    path("files", library.FileListView.as_view()),
    path("files/<uuid:file_id>", library.FileDetailView.as_view()),
    path("files/<uuid:file_id>/download", library.FileDownloadView.as_view()),
    path("files/<uuid:file_id>/thumbnail", library.FileThumbnailView.as_view()),
    path("queue/status", jobs.QueueStatusView.as_view()),
    path("queue/history", jobs.QueueHistoryView.as_view()),
    path("pipeline/execute", pipelines.PipelineExecuteView.as_view()),
    path("pipeline/batch", pipelines.PipelineBatchView.as_view()),
    path("pipeline/save", pipelines.PipelineSaveView.as_view()),
    path("pipeline/list", pipelines.PipelineListView.as_view()),
    path("pipeline/tools", pipelines.PipelineToolsView.as_view()),
    path("pipeline/<uuid:pipeline_id>", pipelines.PipelineDetailView.as_view()),
    path("pipeline/<uuid:pipeline_id>/execute", pipelines.SavedPipelineExecuteView.as_view()),
    path("pipeline/<uuid:pipeline_id>/batch", pipelines.SavedPipelineBatchView.as_view()),
    path("tools", toolsapi.ToolListView.as_view()),
    path("tools/<slug:tool_id>/batch", toolsapi.BatchView.as_view()),
    path("tools/<slug:tool_id>", toolsapi.ToolView.as_view()),
]
