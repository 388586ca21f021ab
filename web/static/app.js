// markwatch console: keyboard triage of the lead queue, bulk actions, logo preview.
// No inline scripts anywhere (CSP script-src 'self'); everything is wired here.
(function () {
  "use strict";
  const csrf = document.body.dataset.csrf;
  const lang = document.body.dataset.lang || "zh-CN";
  let sel = -1;
  let lastActed = null;

  function rows() { return Array.from(document.querySelectorAll("tr.lead")); }
  function toast(msg, bad) {
    const t = document.getElementById("toast");
    if (!t) return;
    t.textContent = msg;
    t.className = "show" + (bad ? " err" : "");
    clearTimeout(toast._h);
    toast._h = setTimeout(function () { t.className = ""; }, 3500);
  }
  function select(i) {
    const rs = rows();
    if (!rs.length) return;
    sel = Math.max(0, Math.min(rs.length - 1, i));
    rs.forEach(function (r, j) { r.classList.toggle("sel", j === sel); });
    rs[sel].scrollIntoView({ block: "nearest" });
    rs[sel].focus({ preventScroll: true });
  }
  function current() { const rs = rows(); return sel >= 0 && sel < rs.length ? rs[sel] : null; }

  async function act(id, action, data) {
    const resp = await fetch("/api/leads/" + id + "/" + action, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "X-Requested-With": "fetch" },
      body: JSON.stringify(data || {}),
    });
    let body = {};
    try { body = await resp.json(); } catch (e) { body = { error: resp.statusText }; }
    if (!resp.ok) { toast("#" + id + ": " + (body.error || resp.status), true); return null; }
    const row = document.querySelector('tr.lead[data-id="' + id + '"]');
    if (row) {
      row.className = row.className.replace(/\bst-\S+/, "st-" + body.to);
      const b = row.querySelector(".status .badge");
      if (b) { b.className = "badge st-" + body.to; b.textContent = body.status_name; }
    }
    lastActed = id;
    toast("#" + id + ": " + body.status_name + (body.pack ? " · " + body.pack : ""));
    return body;
  }

  function pick(dialogId, id) {
    return new Promise(function (resolve) {
      const d = document.getElementById(dialogId);
      if (!d) return resolve(null);
      d.querySelector(".which").textContent = Array.isArray(id) ? id.map(function (x) { return "#" + x; }).join(" ") : "#" + id;
      const other = d.querySelector("input.other");
      if (other) other.value = "";
      d.returnValue = "";
      d.showModal();
      d.addEventListener("close", function h() {
        d.removeEventListener("close", h);
        resolve(d.returnValue || null);
      });
    });
  }

  document.addEventListener("keydown", function (ev) {
    const d = document.querySelector("dialog[open]");
    if (d) {
      if (/^[1-9]$/.test(ev.key) && ev.target.tagName !== "INPUT") {
        const b = d.querySelector('button[data-key="' + ev.key + '"]');
        if (b) { ev.preventDefault(); b.click(); return; }
        const o = d.querySelector("input.other");
        if (o) { ev.preventDefault(); o.focus(); }
      } else if (ev.key === "Enter" && ev.target.classList.contains("other")) {
        ev.preventDefault();
        d.close(ev.target.value.trim());
      }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (/^(INPUT|SELECT|TEXTAREA)$/.test(ev.target.tagName)) return;
    if (!document.getElementById("queue-table")) return;
    const row = current();
    const id = row ? row.dataset.id : null;
    switch (ev.key) {
      case "j": ev.preventDefault(); select(sel + 1); break;
      case "k": ev.preventDefault(); select(sel - 1); break;
      case "o": case "Enter": if (id) { ev.preventDefault(); location.href = "/leads/" + id; } break;
      case "x": if (row) { const c = row.querySelector("input.pick"); if (c) c.checked = !c.checked; } break;
      case "c": if (id) { ev.preventDefault(); act(id, "confirm").then(function (r) { if (r) select(sel + 1); }); } break;
      case "d": if (id) { ev.preventDefault(); pick("dismiss-dialog", id).then(function (reason) {
        if (reason) act(id, "dismiss", { reason: reason }).then(function (r) { if (r) select(sel + 1); }); }); } break;
      case "r": if (id) { ev.preventDefault(); pick("refer-dialog", id).then(function (to) {
        if (to) act(id, "refer", { to: to }); }); } break;
      case "u": { const target = lastActed || id; if (target) { ev.preventDefault(); act(target, "undo").then(function (r) { if (r) lastActed = null; }); } } break;
    }
  });

  document.addEventListener("click", async function (ev) {
    const b = ev.target.closest("button[data-bulk]");
    if (!b) return;
    let ids = Array.from(document.querySelectorAll("input.pick:checked")).map(function (c) { return c.value; });
    if (!ids.length && current()) ids = [current().dataset.id];
    if (!ids.length) return;
    const action = b.dataset.bulk;
    const body = new URLSearchParams();
    ids.forEach(function (i) { body.append("ids", i); });
    body.append("action", action);
    if (action === "dismiss") {
      const reason = await pick("dismiss-dialog", ids);
      if (!reason) return;
      body.append("reason", reason);
    }
    const resp = await fetch("/leads/bulk", { method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRF-Token": csrf, "X-Requested-With": "fetch" } });
    const res = await resp.json().catch(function () { return { errors: [resp.statusText] }; });
    (res.done || []).forEach(function (r) {
      const row = document.querySelector('tr.lead[data-id="' + r.id + '"]');
      if (row) { const s = row.querySelector(".status .badge"); if (s) { s.className = "badge st-" + r.to; s.textContent = r.status_name; } }
    });
    toast((res.done || []).length + " ✓" + ((res.errors || []).length ? " · " + res.errors.join("; ") : ""), (res.errors || []).length > 0);
  });

  document.body.addEventListener("htmx:afterSwap", function () { sel = -1; });
  document.addEventListener("click", function (ev) {
    const r = ev.target.closest("tr.lead");
    if (r && !ev.target.closest("a,input,button")) select(rows().indexOf(r));
  });

  const f = document.getElementById("logo-file");
  if (f) f.addEventListener("change", function () {
    const img = document.getElementById("logo-preview");
    if (f.files && f.files[0]) { img.src = URL.createObjectURL(f.files[0]); img.hidden = false; }
  });
})();
