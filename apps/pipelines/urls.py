"""/api/v1/pipeline/*."""

from django.urls import path

from apps.pipelines import views

urlpatterns = [
    path("pipeline/execute", views.PipelineExecuteView.as_view()),
    path("pipeline/batch", views.PipelineBatchView.as_view()),
    path("pipeline/save", views.PipelineSaveView.as_view()),
    path("pipeline/validate", views.PipelineValidateView.as_view()),
    path("pipeline/list", views.PipelineListView.as_view()),
    path("pipeline/tools", views.PipelineToolsView.as_view()),
    path("pipeline/<uuid:pipeline_id>", views.PipelineDetailView.as_view()),
    path("pipeline/<uuid:pipeline_id>/execute", views.SavedPipelineExecuteView.as_view()),
    path("pipeline/<uuid:pipeline_id>/batch", views.SavedPipelineBatchView.as_view()),
]
