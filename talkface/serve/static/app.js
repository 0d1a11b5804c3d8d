// The talkface page: every action is one call to the HTTP API (docs/serve.md).
// URLs are relative, so the page also works behind a proxy under a sub-path.
"use strict";

const $ = (id) => document.getElementById(id);
const OPTIONS = ["model", "renderer", "seed", "head_motion", "blink_rate", "fps", "crop_size", "motion_scale"];
let limits = null;
let photoOk = false;
let recording = null; // a File made from the microphone, used instead of the audio input
let job = null; // {id, events}

async function api(method, url, body) {
  const response = await fetch(url, { method, body });
  const data = response.headers.get("content-type")?.startsWith("application/json")
    ? await response.json() : {};
  if (!response.ok) {
    const detail = response.status === 413
      ? `the upload is larger than the server's limit of ${limits.max_upload_mb} MB`
      : data.detail || response.statusText;
    throw new Error(detail);
  }
  return data;
}

function showError(message) { $("error").textContent = message ? `Error: ${message}` : ""; }

function speechFile() { return recording || $("audio").files[0] || null; }

function updateButton() {
  $("generate").disabled = !(photoOk && speechFile()) || job !== null;
}

async function loadChoices() {
  const choices = await api("GET", "api/models");
  limits = choices.limits;
  for (const m of choices.models) {
    const label = m.paper ? `${m.paper} (${m.name})` : m.name;
    $("model").add(new Option(label, m.name, false, m.name === choices.default_model));
    $("model").lastChild.title = m.description;
  }
  for (const r of choices.renderers) $("renderer").add(new Option(r, r));
  for (const [name, value] of Object.entries(choices.defaults)) {
    if ($(name) && value !== null && name !== "face") $(name).value = value;
  }
  $("head_motion_value").textContent = $("head_motion").value;
  $("limits").textContent = `Limits: ${limits.max_upload_mb} MB per upload, ` +
    `${limits.max_audio_seconds} s of speech, ${limits.job_timeout} s per video.`;
}

async function choosePhoto() {
  photoOk = false;
  updateButton();
  showError("");
  $("faces").hidden = true;
  $("face-choice").hidden = true;
  const file = $("image").files[0];
  if (!file) return;
  $("faces-caption").textContent = "Looking for faces...";
  const form = new FormData();
  form.append("image", file);
  try {
    const found = await api("POST", "api/faces", form);
    $("preview").src = found.preview;
    $("faces").hidden = false;
    const n = found.faces.length;
    $("faces-caption").textContent = `${n} face${n > 1 ? "s" : ""} found in ` +
      `${found.width}x${found.height} px, with the 68 landmarks the animation moves.`;
    $("face").replaceChildren(...found.faces.map((_, i) =>
      new Option(i === 0 ? "0 (largest)" : String(i), String(i))));
    $("face-choice").hidden = n < 2;
    photoOk = true;
  } catch (error) {
    $("faces-caption").textContent = "";
    showError(error.message);
  }
  updateButton();
}

function chooseAudio() {
  recording = null;
  const file = $("audio").files[0];
  $("speech-info").textContent = file ? `${file.name}, ${(file.size / 1e6).toFixed(1)} MB` : "";
  $("speech-preview").hidden = true;
  updateButton();
}

let recorder = null;
async function toggleRecording() {
  if (recorder) { recorder.stop(); return; }
  showError("");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    showError(`no microphone: ${error.message}`);
    return;
  }
  // Chromium and Firefox record Opus in WebM or Ogg; the server decodes both (FFmpeg)
  const type = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus"].find((t) => MediaRecorder.isTypeSupported(t));
  recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
  const chunks = [];
  const started = Date.now();
  recorder.ondataavailable = (event) => chunks.push(event.data);
  recorder.onstop = () => {
    stream.getTracks().forEach((track) => track.stop());
    const blob = new Blob(chunks, { type: recorder.mimeType });
    const extension = recorder.mimeType.includes("ogg") ? "ogg" : "webm";
    recording = new File([blob], `recording.${extension}`, { type: blob.type });
    recorder = null;
    $("audio").value = "";
    $("record").textContent = "\u25CF Record again";
    $("record").classList.remove("recording");
    $("speech-info").textContent = `recorded ${((Date.now() - started) / 1000).toFixed(1)} s`;
    $("speech-preview").src = URL.createObjectURL(blob);
    $("speech-preview").hidden = false;
    updateButton();
  };
  recorder.start();
  $("record").textContent = "\u25A0 Stop recording";
  $("record").classList.add("recording");
  $("speech-info").textContent = "recording...";
}

function describe(status) {
  switch (status.state) {
    case "queued": return `Waiting in the queue (position ${status.queue_position})...`;
    case "running": return status.frames_total
      ? `Rendering frame ${status.frames_done} of ${status.frames_total}...`
      : "Finding the face and computing the motion...";
    case "done": return `Done: ${status.frames_total} frames.`;
    case "cancelled": return "Cancelled.";
    default: return "Failed.";
  }
}

function showStatus(status) {
  $("progress").value = status.progress;
  $("status").textContent = describe(status);
  if (!["done", "failed", "cancelled"].includes(status.state)) return;
  job.events.close(); // else EventSource reconnects when the server ends the stream
  if (status.state === "failed") showError(status.error);
  if (status.state === "done") {
    const url = `api/jobs/${status.id}/result`;
    $("video").src = url;
    $("download").href = url;
    $("download").download = `talkface-${status.id.slice(0, 8)}.mp4`;
    $("result").hidden = false;
  }
  job = null;
  $("cancel").hidden = true;
  updateButton();
}

async function generate() {
  showError("");
  $("result").hidden = true;
  $("video").removeAttribute("src");
  const form = new FormData();
  form.append("image", $("image").files[0]);
  form.append("audio", speechFile());
  form.append("face", $("face").value || "0");
  for (const name of OPTIONS) {
    if ($(name).value !== "") form.append(name, $(name).value);
  }
  $("generate").disabled = true;
  $("status").textContent = "Uploading...";
  try {
    const status = await api("POST", "api/jobs", form);
    const events = new EventSource(`api/jobs/${status.id}/events`);
    job = { id: status.id, events };
    events.onmessage = (event) => showStatus(JSON.parse(event.data));
    $("cancel").hidden = false;
    $("progress").hidden = false;
    showStatus(status);
  } catch (error) {
    $("status").textContent = "";
    showError(error.message);
    updateButton();
  }
}

async function cancel() {
  if (!job) return;
  try {
    showStatus(await api("DELETE", `api/jobs/${job.id}`));
  } catch (error) {
    showError(error.message);
  }
}

window.addEventListener("DOMContentLoaded", () => {
  $("image").addEventListener("change", choosePhoto);
  $("audio").addEventListener("change", chooseAudio);
  $("record").addEventListener("click", toggleRecording);
  $("generate").addEventListener("click", generate);
  $("cancel").addEventListener("click", cancel);
  $("head_motion").addEventListener("input", () => { $("head_motion_value").textContent = $("head_motion").value; });
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    // browsers allow the microphone only on https:// or localhost pages
    $("record").disabled = true;
    $("record").title = "the microphone needs https:// or localhost";
  }
  loadChoices().catch((error) => showError(error.message));
});
