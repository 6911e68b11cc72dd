// The staff item editor (templates/publishing/item_form.html): price tier rows, picture
// thumbnails (staged as they are dropped, reordered by dragging, one chosen as the main) and the
// SKU grid. The grid is rebuilt here, at once, whenever a dimension value is added, removed or
// moved: every row's typed values are kept in `typed`, keyed by the row's combination of values
// (whatever the order of the dimensions), so nothing typed is lost and no server round trip can
// race with typing. Rows whose value is removed stay in `typed` and come back with the value.
(function () {
  "use strict";

  const GRID_MAX = 400;
  const typed = new Map(); // combination key -> {price, stock, cargo}

  function comboKey(pairs) {
    return pairs.map(function (p) { return String(p[0]) + "\u0001" + String(p[1]); })
      .sort().join("\u0002");
  }

  function splitValues(text) {
    return text.split(/[,，;；\n]+/).map(function (v) { return v.trim().slice(0, 100); })
      .filter(function (v) { return v; });
  }

  // --- the SKU grid --------------------------------------------------------------------------

  function gridBox() { return document.getElementById("sku-grid"); }

  function harvest() {
    const box = gridBox();
    if (!box) { return; }
    box.querySelectorAll("tr[data-pairs]").forEach(function (tr) {
      let pairs;
      try { pairs = JSON.parse(tr.dataset.pairs); } catch (e) { return; }
      const value = function (kind) {
        const input = tr.querySelector("input[name$='-" + kind + "']");
        return input ? input.value : "";
      };
      typed.set(comboKey(pairs), { price: value("price"), stock: value("stock"), cargo: value("cargo") });
    });
  }

  function dimensions() {
    return Array.from(document.querySelectorAll("#sku-editor .dim")).map(function (dim) {
      const values = Array.from(dim.querySelectorAll(".chip input[type=hidden]"))
        .map(function (input) { return input.value; });
      return { id: Number(dim.dataset.dim), values: values };
    }).filter(function (dim) { return dim.values.length; });
  }

  function combinations(dims) {
    let rows = [[]];
    dims.forEach(function (dim) {
      const next = [];
      rows.forEach(function (row) {
        dim.values.forEach(function (value) {
          if (next.length < GRID_MAX) { next.push(row.concat([[dim.id, value]])); }
        });
      });
      rows = next;
    });
    return dims.length ? rows : [];
  }

  function cell(tr, child) {
    const td = document.createElement("td");
    if (child) { td.appendChild(child); }
    tr.appendChild(td);
    return td;
  }

  function input(name, value, attrs) {
    const el = document.createElement("input");
    el.name = name;
    el.value = value || "";
    Object.keys(attrs).forEach(function (key) { el.setAttribute(key, attrs[key]); });
    return el;
  }

  function renumber() {
    const box = gridBox();
    if (!box) { return; }
    let number = 0;
    box.querySelectorAll("tr[data-pairs]").forEach(function (tr) {
      const filled = Array.from(tr.querySelectorAll("input:not([type=hidden])"))
        .some(function (el) { return el.value.trim() !== ""; });
      if (filled) { number += 1; }
      tr.querySelector(".sku-number").textContent = filled ? String(number) : "";
    });
  }

  function rebuildGrid() {
    const box = gridBox();
    const table = box && box.querySelector("table.sku-rows");
    if (!table) { return; }
    harvest();
    const body = table.tBodies[0];
    const labels = table.dataset;
    body.textContent = "";
    combinations(dimensions()).forEach(function (pairs, n) {
      const label = pairs.map(function (p) { return p[1]; }).join(" / ");
      const was = typed.get(comboKey(pairs)) || {};
      const combo = JSON.stringify(pairs);
      const tr = document.createElement("tr");
      tr.dataset.pairs = combo;
      const number = cell(tr);
      number.className = "sku-number";
      const name = cell(tr, document.createTextNode(label));
      name.appendChild(input("sku-" + n + "-combo", combo, { type: "hidden" }));
      cell(tr, input("sku-" + n + "-price", was.price, { inputmode: "decimal", size: "8", "aria-label": labels.labelPrice + " " + label }));
      cell(tr, input("sku-" + n + "-stock", was.stock, { inputmode: "numeric", size: "6", "aria-label": labels.labelStock + " " + label }));
      cell(tr, input("sku-" + n + "-cargo", was.cargo, { size: "14", "aria-label": labels.labelCargo + " " + label }));
      body.appendChild(tr);
    });
    const empty = box.querySelector(".sku-empty");
    if (empty) { empty.hidden = body.rows.length > 0; }
    renumber();
  }

  function addValues(dim) {
    const field = dim.querySelector(".dim-input");
    const list = dim.querySelector(".chips");
    const template = document.getElementById("dim-value-template");
    if (!field || !list || !template) { return false; }
    const present = Array.from(list.querySelectorAll("input[type=hidden]")).map(function (i) { return i.value; });
    let added = false;
    splitValues(field.value).forEach(function (value) {
      if (present.indexOf(value) !== -1) { return; }
      present.push(value);
      const chip = template.content.firstElementChild.cloneNode(true);
      const hidden = chip.querySelector("input[type=hidden]");
      hidden.name = "dim-" + dim.dataset.dim;
      hidden.value = value;
      chip.querySelector(".chip-text").textContent = value;
      list.appendChild(chip);
      added = true;
    });
    field.value = "";
    return added;
  }

  // --- price tiers ---------------------------------------------------------------------------

  function addTier() {
    const body = document.getElementById("tier-rows");
    const last = body && body.rows[body.rows.length - 1];
    if (!last) { return; }
    let next = 0;
    body.querySelectorAll("input[name^='tier-']").forEach(function (el) {
      next = Math.max(next, Number(el.name.split("-")[1]) + 1);
    });
    const row = last.cloneNode(true);
    row.classList.remove("bad");
    row.querySelectorAll(".row-error").forEach(function (el) { el.remove(); });
    row.querySelectorAll("input").forEach(function (el) {
      el.value = "";
      el.name = el.name.replace(/^tier-\d+-/, "tier-" + next + "-");
    });
    body.appendChild(row);
    row.querySelector("input").focus();
  }

  function removeTier(row) {
    const body = row.parentNode;
    if (body.rows.length > 1) {
      row.remove();
    } else {
      row.querySelectorAll("input").forEach(function (el) { el.value = ""; });
    }
  }

  // --- pictures ------------------------------------------------------------------------------

  function pictureList() { return document.getElementById("picture-list"); }

  function markMain() {
    const list = pictureList();
    if (!list) { return; }
    const items = Array.from(list.children);
    if (items.length && !list.querySelector("input[name=picture_main]:checked")) {
      items[0].querySelector("input[name=picture_main]").checked = true;
    }
    items.forEach(function (li) {
      li.classList.toggle("main", li.querySelector("input[name=picture_main]").checked);
    });
  }

  function makeMain(li) {
    const list = pictureList();
    li.querySelector("input[name=picture_main]").checked = true;
    list.insertBefore(li, list.firstElementChild); // 1688's first picture is the main one
    markMain();
  }

  function showPictureErrors(errors) {
    const box = document.getElementById("picture-errors");
    if (!box) { return; }
    box.textContent = "";
    errors.forEach(function (text) {
      const li = document.createElement("li");
      li.textContent = text;
      box.appendChild(li);
    });
  }

  function addPicture(picture) {
    const template = document.getElementById("picture-template");
    const li = template.content.firstElementChild.cloneNode(true);
    li.querySelector("input[name=picture]").value = picture.ref;
    li.querySelector("input[name=picture_main]").value = picture.ref;
    const img = li.querySelector("img");
    if (picture.src) {
      img.src = picture.src;
      img.hidden = false;
    }
    pictureList().appendChild(li);
  }

  // Uploads under way: a save waits for them (the form then carries their references).
  let uploading = 0;
  let saveWhenDone = false;

  function uploadPictures(files, field) {
    const box = document.getElementById("pictures");
    const form = document.getElementById("item-editor");
    if (!box || !files.length) { return; }
    uploading += 1;
    const data = new FormData();
    Array.from(files).forEach(function (file) { data.append("picture_files", file); });
    const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    box.classList.add("busy");
    fetch(box.dataset.upload, {
      method: "POST",
      body: data,
      headers: { "X-CSRFToken": token },
      credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (answer) {
      answer.pictures.forEach(addPicture);
      showPictureErrors(answer.errors);
      markMain();
      if (field) { field.value = ""; } // staged now: not sent again with the form
    }).catch(function () {
      showPictureErrors([box.dataset.failed || "?"]); // the files still go with the form
    }).finally(function () {
      box.classList.remove("busy");
      uploading -= 1;
      if (!uploading && saveWhenDone) {
        saveWhenDone = false;
        form.requestSubmit();
      }
    });
  }

  let dragged = null;

  // --- wiring (delegated: the category panel arrives later through htmx) ---------------------

  document.addEventListener("click", function (event) {
    const target = event.target.closest("button");
    if (!target) { return; }
    const chip = target.closest(".chip");
    const picture = target.closest(".picture");
    if (target.classList.contains("dim-add-button")) {
      if (addValues(target.closest(".dim"))) { rebuildGrid(); }
    } else if (chip && target.classList.contains("chip-remove")) {
      chip.remove();
      rebuildGrid();
    } else if (chip && target.classList.contains("chip-earlier") && chip.previousElementSibling) {
      chip.parentNode.insertBefore(chip, chip.previousElementSibling);
      rebuildGrid();
    } else if (chip && target.classList.contains("chip-later") && chip.nextElementSibling) {
      chip.parentNode.insertBefore(chip.nextElementSibling, chip);
      rebuildGrid();
    } else if (target.classList.contains("tier-add")) {
      addTier();
    } else if (target.classList.contains("tier-remove")) {
      removeTier(target.closest("tr"));
    } else if (picture && target.classList.contains("picture-remove")) {
      picture.remove();
      markMain();
    } else if (picture && target.classList.contains("picture-earlier") && picture.previousElementSibling) {
      picture.parentNode.insertBefore(picture, picture.previousElementSibling);
      markMain();
    } else if (picture && target.classList.contains("picture-later") && picture.nextElementSibling) {
      picture.parentNode.insertBefore(picture.nextElementSibling, picture);
      markMain();
    }
  });

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target.name === "picture_main") {
      makeMain(target.closest(".picture"));
    } else if (target.id === "picture-files" && target.files.length) {
      uploadPictures(target.files, target);
    }
  });

  document.addEventListener("input", function (event) {
    if (event.target.closest("#sku-grid")) { renumber(); }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.classList.contains("dim-input")) {
      event.preventDefault(); // Enter adds the value, it does not save the item
      if (addValues(event.target.closest(".dim"))) { rebuildGrid(); }
    }
  });

  document.addEventListener("submit", function (event) {
    if (event.target.id !== "item-editor") { return; }
    if (uploading) {
      event.preventDefault();
      saveWhenDone = true;
      return;
    }
    let added = false;
    document.querySelectorAll("#sku-editor .dim").forEach(function (dim) {
      added = addValues(dim) || added; // values typed but not yet added still count
    });
    if (added) { rebuildGrid(); }
  });

  document.addEventListener("dragstart", function (event) {
    dragged = event.target.closest && event.target.closest(".picture");
    if (dragged) { event.dataTransfer.effectAllowed = "move"; }
  });

  document.addEventListener("dragover", function (event) {
    if (event.target.closest && (event.target.closest("#pictures"))) {
      event.preventDefault();
      const zone = document.getElementById("dropzone");
      if (zone && !dragged) { zone.classList.add("over"); }
    }
  });

  document.addEventListener("dragleave", function (event) {
    const zone = document.getElementById("dropzone");
    if (zone && event.target === zone) { zone.classList.remove("over"); }
  });

  document.addEventListener("drop", function (event) {
    const box = event.target.closest && event.target.closest("#pictures");
    if (!box) { return; }
    event.preventDefault();
    const zone = document.getElementById("dropzone");
    if (zone) { zone.classList.remove("over"); }
    const over = event.target.closest(".picture");
    if (dragged) {
      if (over && over !== dragged) {
        const list = pictureList();
        const items = Array.from(list.children);
        const after = items.indexOf(dragged) < items.indexOf(over);
        list.insertBefore(dragged, after ? over.nextElementSibling : over);
      }
      dragged = null;
      markMain();
    } else if (event.dataTransfer.files.length) {
      uploadPictures(event.dataTransfer.files);
    }
  });

  document.addEventListener("dragend", function () { dragged = null; });

  // A new category's panel: its grid starts from what the page already holds.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id === "category-panel") {
      const results = document.getElementById("category-results");
      if (results) { results.textContent = ""; }
      const search = document.getElementById("category-q");
      if (search) { search.value = ""; }
      harvest();
    }
  });

  function start() {
    harvest();
    renumber();
    markMain();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
