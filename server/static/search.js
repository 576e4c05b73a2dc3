// Autocomplete for the search box every page carries: suggestions from /search/suggest as the reader types
// (debounced, the last answer wins), chosen with the mouse or the arrow keys; choosing one opens its page,
// Enter without a choice opens the full results at /search.
(function () {
  "use strict";
  const form = document.querySelector("form.site-search");
  if (!form) return;
  const input = form.querySelector("input[name=q]");
  const datalist = form.querySelector("datalist");
  if (datalist) { input.removeAttribute("list"); datalist.remove(); }
  const box = document.createElement("ul");
  box.className = "suggestions";
  box.id = "site-search-listbox";
  box.setAttribute("role", "listbox");
  box.hidden = true;
  form.appendChild(box);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", box.id);
  input.setAttribute("aria-expanded", "false");

  let items = [], active = -1, timer = null, asked = 0;

  function show(list) {
    items = list;
    active = -1;
    box.replaceChildren(...list.map((s, i) => {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      li.id = "site-search-option-" + i;
      li.dataset.href = s.href;
      const a = document.createElement("a");
      a.href = s.href;
      a.textContent = s.label;
      const detail = document.createElement("span");
      detail.className = "detail";
      detail.textContent = s.matched && s.matched !== s.label ? `${s.detail} · “${s.matched}”` : s.detail;
      li.append(a, detail);
      li.addEventListener("mousedown", (e) => { e.preventDefault(); window.location.href = s.href; });
      return li;
    }));
    box.hidden = list.length === 0;
    input.setAttribute("aria-expanded", String(!box.hidden));
  }

  function highlight(i) {
    active = i;
    [...box.children].forEach((li, n) => li.classList.toggle("active", n === i));
    if (i >= 0) input.setAttribute("aria-activedescendant", box.children[i].id);
    else input.removeAttribute("aria-activedescendant");
  }

  async function ask(q) {
    const mine = ++asked;
    try {
      const response = await fetch("/search/suggest?" + new URLSearchParams({ q }), { headers: { Accept: "application/json" } });
      if (!response.ok || mine !== asked) return;
      const body = await response.json();
      if (mine === asked && input.value.trim() === q) show(body.suggestions);
    } catch (e) { /* offline or the server restarted: the form still submits to /search */ }
  }

  input.addEventListener("input", () => {
    const q = input.value.trim();
    clearTimeout(timer);
    if (!q) { asked++; show([]); return; }
    timer = setTimeout(() => ask(q), 120);
  });
  input.addEventListener("keydown", (e) => {
    if (box.hidden) return;
    if (e.key === "ArrowDown") { e.preventDefault(); highlight(Math.min(active + 1, items.length - 1)); }
    else if (e.key === "ArrowUp") { e.preventDefault(); highlight(Math.max(active - 1, -1)); }
    else if (e.key === "Escape") { show([]); }
    else if (e.key === "Enter" && active >= 0) { e.preventDefault(); window.location.href = items[active].href; }
  });
  input.addEventListener("blur", () => setTimeout(() => show([]), 150));
})();
