// The login page: POST /api/auth/login, then back to the dashboard page the user came from.
const form = document.getElementById("login");
const error = document.getElementById("login-error");

function back() {
  // the fragment survives the server's redirect to this page: #/logs → /dashboard#/logs
  const hash = /^#\/[\w\-/?=&%.]*$/.test(location.hash) ? location.hash : "";
  location.replace("/dashboard" + hash);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const res = await fetch("/api/auth/login", {
      method: "POST", credentials: "same-origin", headers: {"content-type": "application/json"},
      body: JSON.stringify({password: form.password.value}),
    });
    if (res.ok) { back(); return; }
    let message = `login failed (${res.status})`;
    try { message = (await res.json()).error.message || message; } catch { /* not JSON */ }
    if (res.status === 429) message += ` — try again in ${res.headers.get("retry-after") || "a few"} s`;
    error.textContent = message;
    form.password.select();
  } catch (exc) {
    error.textContent = "the gateway did not answer: " + exc.message;
  } finally {
    button.disabled = false;
  }
});
