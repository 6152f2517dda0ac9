"""Routes of the dashboard, mounted at /ui/ (namespace `dashboard`)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from linesman.dashboard import catalog, diagnostics, jobs, views, webhooks

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="dashboard/login.html",
            redirect_authenticated_user=True,
            next_page="dashboard:home",
        ),
        name="login",
    ),
    path("logout/", views.LogoutView.as_view(next_page="dashboard:login"), name="logout"),
    path("devices/", views.device_list, name="devices"),
    path("devices/export.csv", views.device_export, name="devices_export"),
    path("devices/job/", jobs.job_from_devices, name="devices_job"),
    path("devices/<int:pk>/", views.device_detail, name="device"),
    path("devices/<int:pk>/state/", views.device_state, name="device_state"),
    path("devices/<int:pk>/parameters/", views.device_parameters, name="device_parameters"),
    path("devices/<int:pk>/operate/", views.device_operate, name="device_operate"),
    path("devices/<int:pk>/objects/", views.device_object, name="device_object"),
    path(
        "devices/<int:pk>/parameters/set/",
        views.device_parameter_set,
        name="device_parameter_set",
    ),
    path(
        "devices/<int:pk>/diagnostics/",
        diagnostics.device_diagnostics,
        name="device_diagnostics",
    ),
    path("devices/<int:pk>/diagnose/", diagnostics.device_diagnose, name="device_diagnose"),
    path(
        "devices/<int:pk>/operations/<str:operation_id>/cancel/",
        views.operation_cancel,
        name="operation_cancel",
    ),
    path("map/", views.device_map, name="map"),
    path("map/data/", views.device_map_data, name="map_data"),
    path("jobs/", jobs.job_list, name="jobs"),
    path("jobs/<int:pk>/", jobs.job_detail, name="job"),
    path("jobs/<int:pk>/progress/", jobs.job_progress, name="job_progress"),
    path("jobs/<int:pk>/devices/", jobs.job_devices, name="job_devices"),
    path("jobs/<int:pk>/cancel/", jobs.job_cancel, name="job_cancel"),
    path("jobs/<int:pk>/retry/", jobs.job_retry, name="job_retry"),
    path("catalog/", catalog.catalog, name="catalog"),
    path("catalog/<str:kind>/", catalog.catalog_create, name="catalog_create"),
    path("catalog/<str:kind>/<int:pk>/delete/", catalog.catalog_delete, name="catalog_delete"),
    path("webhooks/", webhooks.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/toggle/", webhooks.webhook_toggle, name="webhook_toggle"),
]
