// The web page: start a workflow, follow it over the WebSocket, play the result, list tasks.
"use strict";

const LANGUAGE_KEY = "reasoning-action.language";
const TOKEN_KEY = "reasoning-action.token";
const TOKEN_COOKIE = "reasoning_action_token";
const FINISHED = new Set(["success", "failed", "cancelled"]);
const PAGE_SIZE = 10;
const POLL_MILLISECONDS = 2000;

const state = { language: "en", task: null, socket: null, pollTimer: null, offset: 0, total: 0 };
const $ = (id) => document.getElementById(id);

// Language

function pickLanguage() {
  const saved = localStorage.getItem(LANGUAGE_KEY);
  if (saved && window.MESSAGES[saved]) return saved;
  const preferred = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
  for (const tag of preferred) {
    if (tag.toLowerCase().startsWith("zh")) return "zh-CN";
    if (tag.toLowerCase().startsWith("en")) return "en";
  }
  return "en";
}

function t(key, values = {}) {
  const table = window.MESSAGES[state.language] || window.MESSAGES.en;
  let text = table[key];
  if (text === undefined) text = window.MESSAGES.en[key];
  if (text === undefined) text = key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (values[name] !== undefined ? values[name] : ""));
}

function applyLanguage(language) {
  state.language = language;
  document.documentElement.lang = language;
  $("language").value = language;
  for (const element of document.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
  for (const element of document.querySelectorAll("[data-i18n-placeholder]")) element.placeholder = t(element.dataset.i18nPlaceholder);
  if (state.task) renderTask(state.task);
  loadHistory();
}

// HTTP

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

function storeToken(token) {
  if (token) {
    localStorage.setItem(TOKEN_KEY, token);
    document.cookie = `${TOKEN_COOKIE}=${encodeURIComponent(token)}; path=/; SameSite=Strict`;
  } else {
    localStorage.removeItem(TOKEN_KEY);
    document.cookie = `${TOKEN_COOKIE}=; path=/; max-age=0; SameSite=Strict`;
  }
}

async function api(method, path, body) {
  const headers = {};
  const token = localStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    if (response.status === 401) $("token-panel").hidden = false;
    throw new ApiError(response.status, data.detail || `HTTP ${response.status}`);
  }
  return data;
}

// Starting a workflow

function numberOf(id) {
  return Number($(id).value);
}

function workflowBody() {
  return {
    prompt: $("prompt").value.trim(),
    iterations: numberOf("iterations"),
    auto_enhance: $("auto-enhance").checked,
    workflow_config: {
      image_config: { width: numberOf("width"), height: numberOf("height") },
      video_config: {
        fps: numberOf("fps"),
        duration: numberOf("duration"),
        motion_scale: numberOf("motion-scale"),
        transition_type: $("transition-type").value,
      },
      audio_config: {
        audio_style: $("audio-style").value,
        include_sfx: $("include-sfx").checked,
        volume: numberOf("volume"),
      },
    },
  };
}

async function startWorkflow(event) {
  event.preventDefault();
  const error = $("form-error");
  error.hidden = true;
  $("start").disabled = true;
  try {
    const task = await api("POST", "/api/workflow", workflowBody());
    showTask(task);
    loadHistory();
  } catch (failure) {
    error.textContent = failure.status === 401 ? t("needToken") : failure.message;
    error.hidden = false;
  } finally {
    $("start").disabled = false;
  }
}

// Following a task

function stopWatching() {
  if (state.socket) {
    state.socket.onclose = null;
    state.socket.close();
    state.socket = null;
  }
  clearInterval(state.pollTimer);
  state.pollTimer = null;
}

function showTask(task) {
  stopWatching();
  state.task = task;
  $("result-video").removeAttribute("src");
  renderTask(task);
  if (!FINISHED.has(task.status)) watch(task.task_id);
}

function watch(taskId) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/tasks/${encodeURIComponent(taskId)}`);
  state.socket = socket;
  socket.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.task_id === undefined) {
      showTaskError(data.detail);
      return;
    }
    if (state.task && data.task_id !== state.task.task_id) return;
    const wasFinished = state.task && FINISHED.has(state.task.status);
    state.task = data;
    renderTask(data);
    if (FINISHED.has(data.status) && !wasFinished) loadHistory();
  };
  socket.onclose = () => {
    if (state.socket !== socket) return;
    state.socket = null;
    if (state.task && !FINISHED.has(state.task.status)) poll(taskId);
  };
}

function poll(taskId) {
  $("task-message").textContent = t("connectionLost");
  state.pollTimer = setInterval(async () => {
    try {
      const task = await api("GET", `/api/tasks/${encodeURIComponent(taskId)}`);
      state.task = task;
      renderTask(task);
      if (FINISHED.has(task.status)) {
        clearInterval(state.pollTimer);
        loadHistory();
      }
    } catch (failure) {
      showTaskError(failure.message);
    }
  }, POLL_MILLISECONDS);
}

async function cancelTask() {
  if (!state.task) return;
  try {
    const task = await api("DELETE", `/api/tasks/${encodeURIComponent(state.task.task_id)}`);
    state.task = task;
    renderTask(task);
    loadHistory();
  } catch (failure) {
    showTaskError(failure.message);
  }
}

// Rendering

function statusLabel(status) {
  return t(`status.${status}`);
}

function stepLabel(step) {
  const stage = t(`stage.${step.stage}`);
  return step.segment ? `${stage} · ${t("segment", { segment: step.segment })}` : stage;
}

function renderSteps(steps) {
  const list = $("steps");
  list.replaceChildren();
  for (const step of steps) {
    const item = document.createElement("li");
    item.dataset.stage = step.stage;
    if (step.segment) item.dataset.segment = step.segment;
    const label = document.createElement("span");
    label.textContent = `${stepLabel(step)} `;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = step.progress;
    const percent = document.createElement("span");
    percent.textContent = ` ${Math.round(step.progress)}%`;
    item.append(label, bar, percent);
    list.append(item);
  }
}

function showTaskError(text) {
  const element = $("task-error");
  element.textContent = text;
  element.hidden = !text;
}

function renderTask(task) {
  $("task-panel").hidden = false;
  const badge = $("task-status");
  badge.textContent = statusLabel(task.status);
  badge.className = `status ${task.status}`;
  badge.dataset.status = task.status;
  $("task-prompt").textContent = task.metadata.prompt || t(`type.${task.metadata.type}`);
  $("task-progress").value = task.progress;
  $("task-percent").textContent = `${Math.round(task.progress)}%`;
  $("task-message").textContent = task.message || "";
  renderSteps(task.steps || []);
  showTaskError(task.error || "");
  $("cancel").hidden = FINISHED.has(task.status);
  renderResult(task);
}

function mediaUrl(result) {
  return result.video_path || result.path || null;
}

function renderResult(task) {
  const box = $("result");
  const url = task.status === "success" && task.result ? mediaUrl(task.result) : null;
  box.hidden = !url;
  if (!url) return;

  const video = $("result-video");
  const image = $("result-image");
  const isImage = /\.(png|jpe?g|webp)$/i.test(url);
  const isAudio = /\.(wav|mp3|m4a|flac)$/i.test(url);
  video.hidden = isImage;
  image.hidden = !isImage;
  if (isImage) {
    image.src = url;
  } else if (video.getAttribute("src") !== url) {
    video.src = url;
    if (!isAudio) video.play().catch(() => {});
  }
  $("result-download").href = url;
  const summary = task.result.workflow_summary;
  $("result-summary").textContent = summary
    ? t("summary", { segments: summary.segments_count, seconds: summary.total_duration_seconds })
    : "";
}

// History

function formatTime(text) {
  return new Date(text).toLocaleString(state.language);
}

async function loadHistory() {
  let page;
  try {
    page = await api("GET", `/api/tasks?limit=${PAGE_SIZE}&offset=${state.offset}`);
  } catch (failure) {
    return;
  }
  state.total = page.total;
  const body = $("history");
  body.replaceChildren();
  for (const task of page.tasks) {
    const row = document.createElement("tr");
    row.dataset.taskId = task.task_id;
    const cells = [
      formatTime(task.created_at),
      t(`type.${task.metadata.type}`),
      task.metadata.prompt || "",
      statusLabel(task.status),
      `${Math.round(task.progress)}%`,
    ];
    for (const text of cells) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    row.addEventListener("click", () => showTask(task));
    body.append(row);
  }
  $("history-empty").hidden = page.tasks.length > 0;
  const pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
  $("page-info").textContent = t("page", { page: Math.floor(state.offset / PAGE_SIZE) + 1, pages, total: page.total });
  $("previous-page").disabled = state.offset === 0;
  $("next-page").disabled = state.offset + PAGE_SIZE >= page.total;
}

function turnPage(direction) {
  state.offset = Math.max(0, state.offset + direction * PAGE_SIZE);
  loadHistory();
}

// Start-up

document.addEventListener("DOMContentLoaded", () => {
  $("language").addEventListener("change", (event) => {
    localStorage.setItem(LANGUAGE_KEY, event.target.value);
    applyLanguage(event.target.value);
  });
  $("workflow-form").addEventListener("submit", startWorkflow);
  $("cancel").addEventListener("click", cancelTask);
  $("refresh").addEventListener("click", loadHistory);
  $("previous-page").addEventListener("click", () => turnPage(-1));
  $("next-page").addEventListener("click", () => turnPage(1));
  $("save-token").addEventListener("click", () => {
    storeToken($("token").value.trim());
    $("token-panel").hidden = true;
    loadHistory();
  });
  applyLanguage(pickLanguage());
});
