// Users: create, change role and team, reset the password, delete. Through /api/auth.
import { api, el, pageData, t, toast } from "./api.js";
import { actionButton, field, openDialog, s, select, showError } from "./admin-ui.js";

const teams = pageData("teams-data") || [];
const me = pageData("me-data");
const body = document.querySelector("[data-users]");
const listError = document.querySelector("[data-list-error]");
const form = document.getElementById("create-user");
const createError = form.querySelector("[data-create-error]");
const ROLES = () => [{ value: "user", label: s("roleUser") }, { value: "admin", label: s("roleAdmin") }];
const TEAMS = () => teams.map((t) => ({ value: t.name, label: t.name }));

function cell(label, ...content) {
  return el("td", { "data-label": label }, ...content);
}

function row(user) {
  const status = user.mustChangePassword
    ? el("span", { class: "badge warn" }, s("mustChange"))
    : el("span", { class: "badge ok" }, s("active"));
  const self = user.id === me;
  const actions = el("div", { class: "row-actions" },
    actionButton(s("edit"), user.username, { onclick: () => edit(user) }),
    actionButton(s("resetPassword"), user.username, { onclick: () => reset(user) }),
    self ? null : actionButton(s("delete"), user.username, { kind: "danger", onclick: () => remove(user) }));
  return el("tr", { "data-user": user.username },
    el("th", { scope: "row", "data-label": s("name") }, user.username, self ? el("span", { class: "muted small" }, ` (${s("you")})`) : null),
    cell(s("role"), user.role === "admin" ? el("span", { class: "badge accent" }, s("roleAdmin")) : s("roleUser")),
    cell(s("team"), user.team || "—"),
    cell(s("status"), status),
    el("td", { class: "actions-cell" }, actions));
}

async function load() {
  try {
    const { users } = await api("/api/auth/users");
    users.sort((a, b) => a.username.localeCompare(b.username));
    body.replaceChildren(...(users.length ? users.map(row) : [el("tr", {}, el("td", { colspan: "5" }, s("noUsers")))]));
    showError(listError, "");
  } catch (error) {
    showError(listError, error.message);
  }
}

function edit(user) {
  const role = field(s("role"), select(ROLES(), user.role));
  const team = field(s("team"), select(TEAMS(), user.team));
  openDialog({
    title: s("editUser", { name: user.username }),
    body: [role.wrapper, team.wrapper],
    submitLabel: s("save"),
    onSubmit: async () => {
      const changes = { team: team.input.value };
      if (role.input.value !== user.role) changes.role = role.input.value;
      await api(`/api/auth/users/${user.id}`, { method: "PUT", json: changes });
      toast(s("settingsSaved"));
      load();
    },
  });
}

function reset(user) {
  const password = field(s("newPassword"), el("input", { type: "password", autocomplete: "new-password", required: true, minlength: "8" }));
  openDialog({
    title: s("resetPasswordFor", { name: user.username }),
    body: [password.wrapper],
    submitLabel: s("resetPassword"),
    onSubmit: async () => {
      await api(`/api/auth/users/${user.id}/reset-password`, { method: "POST", json: { newPassword: password.input.value } });
      toast(s("resetDone", { name: user.username }));
      load();
    },
  });
}

async function remove(user) {
  const ok = await openDialog({
    title: s("confirmDeleteUser", { name: user.username }),
    submitLabel: s("delete"),
    danger: true,
    onSubmit: () => api(`/api/auth/users/${user.id}`, { method: "DELETE" }),
  });
  if (ok) { toast(t("deleted")); load(); }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(form));
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api("/api/auth/register", { method: "POST", json: data });
    toast(s("userCreated", { name: data.username }));
    form.reset();
    showError(createError, "");
    load();
  } catch (error) {
    showError(createError, error.message);
    form.querySelector(error.code === "WEAK_PASSWORD" ? "#new-password" : "#new-username").focus();
  } finally {
    button.disabled = false;
  }
});

load();
