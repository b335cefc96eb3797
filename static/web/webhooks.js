// The settings page's Webhooks section: add (URL + events), list, send a test, show the
// last deliveries, delete. Everything goes through /api/v1/webhooks.
import { api, el, pageData, toast } from "./api.js";
import { actionButton, confirmDialog, formatDate, s, showError } from "./admin-ui.js";

const texts = pageData("webhook-texts") || {};
const form = document.getElementById("create-webhook");
const error = document.querySelector("[data-webhook-error]");
const secretBox = document.querySelector("[data-new-secret]");
const secretInput = document.getElementById("new-secret-value");
const testResult = document.querySelector("[data-test-result]");
const rows = document.querySelector("[data-webhook-rows]");
const deliveries = document.querySelector("[data-deliveries]");
const deliveriesTitle = document.querySelector("[data-deliveries-title]");
const deliveryRows = document.querySelector("[data-delivery-rows]");
const BADGES = { succeeded: "ok", failed: "error", pending: "warn" };

function w(key, values = {}) {
  let text = texts[key] || key;
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`{${name}}`, value);
  return text;
}

function row(hook) {
  const status = hook.active ? w("active") : w("inactive");
  const scope = hook.scope === "all" ? ` (${w("allUsers")})` : "";
  return el("tr", { "data-webhook": hook.url },
    el("th", { scope: "row", class: "mono" }, hook.url),
    el("td", { "data-label": w("events") }, hook.events.join(", ") + scope),
    el("td", { "data-label": w("status") }, el("span", { class: `badge ${hook.active ? "ok" : ""}` }, status)),
    el("td", { class: "actions-cell" },
      actionButton(w("sendTest"), hook.url, { onclick: () => sendTest(hook) }),
      actionButton(w("deliveries"), hook.url, { onclick: () => showDeliveries(hook) }),
      actionButton(s("delete"), hook.url, { kind: "danger", onclick: () => remove(hook) })));
}

async function load() {
  const { webhooks } = await api("/api/v1/webhooks");
  rows.replaceChildren(...(webhooks.length
    ? webhooks.map(row)
    : [el("tr", {}, el("td", { colspan: "4", class: "muted" }, w("noWebhooks")))]));
}

function deliveryRow(delivery) {
  return el("tr", { "data-delivery": delivery.event },
    el("th", { scope: "row" }, delivery.event),
    el("td", { "data-label": w("result") }, el("span", { class: `badge ${BADGES[delivery.status] || ""}`, title: delivery.error || "" }, w(delivery.status))),
    el("td", { "data-label": w("http") }, delivery.responseStatus ?? "—"),
    el("td", { "data-label": w("latency") }, delivery.latencyMs === null ? "—" : `${delivery.latencyMs} ms`),
    el("td", { "data-label": w("attempts") }, String(delivery.attempts)),
    el("td", { "data-label": w("time") }, formatDate(delivery.createdAt)));
}

async function showDeliveries(hook) {
  const { deliveries: list } = await api(`/api/v1/webhooks/${hook.id}/deliveries`);
  deliveriesTitle.textContent = w("deliveriesOf", { url: hook.url });
  deliveryRows.replaceChildren(...(list.length
    ? list.map(deliveryRow)
    : [el("tr", {}, el("td", { colspan: "6", class: "muted" }, w("noDeliveries")))]));
  deliveries.hidden = false;
  deliveries.dataset.webhookId = hook.id;
}

function outcome(delivery) {
  if (delivery.status === "succeeded") return [w("testSucceeded", { status: delivery.responseStatus, ms: delivery.latencyMs }), "ok"];
  if (delivery.status === "failed") return [w("testFailed", { error: delivery.error }), "error"];
  return [w("testPending"), "warn"];
}

async function sendTest(hook) {
  try {
    const delivery = await api(`/api/v1/webhooks/${hook.id}/test`, { method: "POST" });
    const [message, kind] = outcome(delivery);
    testResult.textContent = message;
    testResult.className = `alert ${kind}`;
    testResult.hidden = false;
    showError(error, "");
    await showDeliveries(hook);
  } catch (problem) {
    showError(error, problem.message);
  }
}

async function remove(hook) {
  const ok = await confirmDialog(w("confirmDeleteWebhook", { url: hook.url }), s("delete"),
    () => api(`/api/v1/webhooks/${hook.id}`, { method: "DELETE" }));
  if (ok) {
    if (deliveries.dataset.webhookId === hook.id) deliveries.hidden = true;
    if (secretInput.dataset.webhookId === hook.id) secretBox.hidden = true;
    load();
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const events = [...form.querySelectorAll("input[name=events]:checked")].map((box) => box.value);
  if (!events.length) return showError(error, w("pickEvent"));
  try {
    const created = await api("/api/v1/webhooks", { method: "POST", json: { url: form.elements.url.value.trim(), events } });
    showError(error, "");
    secretInput.value = created.secret;
    secretInput.dataset.webhookId = created.id;
    secretBox.hidden = false;
    secretBox.focus();
    form.elements.url.value = "";
    toast(w("webhookCreated"));
    load();
  } catch (problem) {
    showError(error, problem.message);
  }
});

load().catch((problem) => showError(error, problem.message));
