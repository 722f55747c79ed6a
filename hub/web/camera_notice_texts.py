"""The words of the printable camera notice (hub.camera.notice), marked here because the
message extractor reads hub/web/: what the camera infers, that no image is kept, how long the
numbers are, who runs it, on what legal basis, how to object and to complain, and that it is
an AI system the AI Act names."""

from hub.web.language import N_

HEADING = N_("Camera: facial expression reading")
INFERRED = N_(
    "When you press a button, this kiosk's camera reads your facial expression (for example "
    "happy, sad, surprised) at that moment. It does not identify you."
)
# Translators: %(k)s is the least number of readings ever shown together, e.g. 10
NO_IMAGE = N_(
    "No image is stored or sent: the picture is analysed on the kiosk and discarded at once. "
    "Only numbers about the expression are kept, and only shown as totals of at least %(k)s "
    "readings."
)
PASSERSBY = N_("The camera may also count faces passing by, without reading them.")
RETENTION_ONE_DAY = N_("The numbers are deleted after one day; totals stay.")
# Translators: %(days)s is a whole number of days, 2 or more, e.g. 30
RETENTION = N_("The numbers are deleted after %(days)s days; totals stay.")
PURPOSE = N_("Purpose: to improve this place's service.")
# Translators: %(name)s is the organisation that runs the cameras, as it wrote its name
RUN_BY = N_("Run by: %(name)s")
# Translators: %(contact)s is an address, e-mail or phone number, as the deployer wrote it
CONTACT = N_("Contact: %(contact)s")
# Translators: %(basis)s is the legal basis as the deployer wrote it (often in the site's language)
LEGAL_BASIS = N_("Legal basis: %(basis)s")
# Translators: %(reference)s is the data-protection impact assessment's reference, e.g. DPIA-2026-04
IMPACT_ASSESSMENT = N_("Impact assessment: %(reference)s")
# Translators: %(contact)s is an address, e-mail or phone number, as the deployer wrote it
OBJECT = N_(
    "You may object at any time: do not press a button, or use the phone survey instead, or "
    "contact %(contact)s. The camera is off when its light, or the camera notice on the screen, "
    "is off."
)
COMPLAIN = N_("You may complain to the data-protection supervisory authority.")
# Translators: %(url)s is the link to the survey on a phone, written out
PHONE_SURVEY = N_("Phone survey: %(url)s")
AI_SYSTEM = N_("AI system: emotion recognition (EU AI Act, Art. 50(3))")
