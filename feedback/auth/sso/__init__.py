"""Single sign-on for staff: one identity module whatever the protocol.

``provision.sign_in_external`` turns a verified external identity (issuer, subject, e-mail, name,
claims) into a local user: OIDC (``oidc.py``) calls it today; a SAML adapter would call the same
function with the attributes of its assertion. Which role and units a person gets is decided by
the admin's stored claim mapping (``mapping.py``), evaluated afresh at every login.
"""
