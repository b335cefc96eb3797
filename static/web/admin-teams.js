// Teams: create, rename, delete (the API refuses the default team and teams with members).
import { api, el, t, toast } from "./api.js";
import { actionButton, field, openDialog, s, showError } from "./admin-ui.js";

const body = document.querySelector("[data-teams]");
const listError = document.querySelector("[data-list-error]");
const form = document.getElementById("create-team");
const createError = form.querySelector("[data-create-error]");

function row(team) {
  const name = el("th", { scope: "row", "data-label": s("name") }, team.name,
    team.isDefault ? el("span", { class: "badge accent team-default" }, s("defaultTeam")) : null);
  const removable = !team.isDefault && !team.memberCount;
  return el("tr", { "data-team": team.name }, name,
    el("td", { "data-label": s("membersLabel") }, String(team.memberCount ?? 0)),
    el("td", { class: "actions-cell" }, el("div", { class: "row-actions" },
      actionButton(s("rename"), team.name, { onclick: () => rename(team) }),
      removable ? actionButton(s("delete"), team.name, { kind: "danger", onclick: () => remove(team) }) : null)));
}

async function load() {
  try {
    const { teams } = await api("/api/v1/teams");
    teams.sort((a, b) => (b.isDefault - a.isDefault) || a.name.localeCompare(b.name));
    body.replaceChildren(...(teams.length ? teams.map(row) : [el("tr", {}, el("td", { colspan: "3" }, s("noTeams")))]));
    showError(listError, "");
  } catch (error) {
    showError(listError, error.message);
  }
}

function rename(team) {
  const name = field(s("name"), el("input", { type: "text", value: team.name, required: true, maxlength: "50" }));
  openDialog({
    title: s("renameTeam", { name: team.name }),
    body: [name.wrapper],
    submitLabel: s("save"),
    onSubmit: async () => {
      await api(`/api/v1/teams/${team.id}`, { method: "PUT", json: { name: name.input.value } });
      toast(t("saved"));
      load();
    },
  });
}

async function remove(team) {
  const ok = await openDialog({
    title: s("confirmDeleteTeam", { name: team.name }),
    submitLabel: s("delete"),
    danger: true,
    onSubmit: () => api(`/api/v1/teams/${team.id}`, { method: "DELETE" }),
  });
  if (ok) { toast(t("deleted")); load(); }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = form.elements.name.value.trim();
  try {
    await api("/api/v1/teams", { method: "POST", json: { name } });
    toast(s("teamCreated", { name }));
    form.reset();
    showError(createError, "");
    load();
  } catch (error) {
    showError(createError, error.message);
    form.elements.name.focus();
  }
});

load();
