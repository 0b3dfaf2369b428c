from django.urls import path

from concerto.portal import views

app_name = "portal"

# Under /my/: nothing here names a patient; the session says whose pages they are.
urlpatterns = [
    path("my/sign-in/", views.sign_in, name="sign-in"),
    path("my/sign-in/<str:token>/", views.use_link, name="link"),
    path("my/sign-out/", views.sign_out, name="sign-out"),
    path("my/", views.home, name="home"),
    path("my/plan/", views.plan, {"slug": "plan"}, name="plan"),
    path("my/crisis-plan/", views.plan, {"slug": "crisis-plan"}, name="crisis-plan"),
    path("my/plan/print/", views.plan_pdf, {"slug": "plan"}, name="plan-pdf"),
    path("my/crisis-plan/print/", views.plan_pdf, {"slug": "crisis-plan"}, name="crisis-plan-pdf"),
    path("my/referrals/", views.referral_list, name="referrals"),
    path("my/referrals/<int:referral_id>/", views.referral_detail, name="referral"),
    path("my/refer-myself/", views.self_refer, name="self-refer"),
    path("my/questionnaires/", views.questionnaire_list, name="questionnaires"),
    path("my/questionnaires/<slug:key>/", views.questionnaire_fill, name="questionnaire"),
]
