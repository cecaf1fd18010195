// The passkey list is the server's: once django-otp-webauthn's script has registered a new
// passkey, load the page again so that it shows in the list (with its audit entry written).
document.addEventListener("otp_webauthn.register_complete", () => {
  window.setTimeout(() => window.location.reload(), 600);
});
