// The passkey list is the server's: once django-otp-webauthn's script has registered a new
// passkey, load the page again so that it shows in the list (with its audit entry written).
// Without recovery codes yet (a passkey as her first factor), ask for them instead: the
// answer shows them once, as setting up an app does, and leads back to this page.
document.addEventListener("otp_webauthn.register_complete", () => {
  const firstCodes = document.getElementById("first-recovery-codes");
  window.setTimeout(() => (firstCodes ? firstCodes.submit() : window.location.reload()), 600);
});
