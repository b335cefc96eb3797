// The administration overview: the models and health figures, read from the API.
import { api } from "./api.js";
import { s } from "./admin-ui.js";

const models = document.querySelector("[data-models-summary]");
const health = document.querySelector("[data-health]");

api("/api/v1/models").then((body) => {
  const installed = body.models.filter((m) => m.installed).length;
  models.textContent = `${installed} / ${body.models.length} ${s("installed").toLowerCase()}`;
}).catch(() => { models.textContent = "—"; });

api("/api/v1/system/doctor").then((body) => {
  health.textContent = s(`health_${body.status}`);
  health.classList.add(`health-${body.status}`);
}).catch(() => { health.textContent = "—"; });
