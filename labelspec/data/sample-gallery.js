// The script of the `labelspec qa sample` gallery (labelspec/qa/gallery.py inlines it).
// Filters, then the review: a verdict per label, missing objects per annotation, and a review
// file saved for `labelspec qa review import`. Everything stays in this page: no request, and
// text from labels or items only ever reaches the page through textContent and attributes.
(function () {
  "use strict";
  // the SVG namespace, taken from the page's own SVG so that no URL appears in the page
  var SVG = (document.querySelector("svg.overlay") || {}).namespaceURI;
  var all = function (root, selector) {
    return Array.prototype.slice.call(root.querySelectorAll(selector));
  };

  // -- filters: a group button and a search box ------------------------------------------------
  var cards = all(document, ".card");
  var buttons = all(document, "#filters button");
  var query = document.getElementById("q");
  var count = document.getElementById("count");
  var group = null;
  function apply() {
    var words = query.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    cards.forEach(function (card) {
      var ok = (group === null || card.dataset.group === group) &&
        words.every(function (w) { return card.dataset.search.indexOf(w) >= 0; });
      card.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + cards.length + " annotations shown";
  }
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      group = button.hasAttribute("data-value") ? button.dataset.value : null;
      buttons.forEach(function (b) { b.classList.toggle("on", b === button); });
      apply();
    });
  });
  query.addEventListener("input", apply);
  apply();

  // -- verdicts per label ---------------------------------------------------------------------
  var about = JSON.parse(document.getElementById("review-about").textContent);
  var rows = all(document, ".review");
  var saveButton = document.getElementById("save-review");
  var reviewed = document.getElementById("reviewed");
  function verdictOf(row) {
    var picked = row.querySelector("input[type=radio]:checked");
    return picked ? picked.value : null;
  }
  function refresh() {
    var judged = 0;
    rows.forEach(function (row) {
      var v = verdictOf(row);
      row.dataset.verdict = v || "";
      row.classList.toggle("accept", v === "accept");
      row.classList.toggle("reject", Boolean(v) && v !== "accept");
      if (v) { judged += 1; }
    });
    var missing = document.querySelectorAll(".missing-entry").length;
    reviewed.textContent = judged + " of " + rows.length + " labels reviewed" +
      (missing ? ", " + missing + " missing object" + (missing === 1 ? "" : "s") : "");
    saveButton.disabled = judged + missing === 0;
  }
  // Hovering or focusing a row outlines its box (or span) and dims the others.
  function highlight(row, on) {
    var n = row.dataset.n;
    var card = row.closest(".card");
    row.classList.toggle("hl", on);
    if (!n) { return; }
    all(card, '.overlay [data-n="' + n + '"], .text [data-n~="' + n + '"]').forEach(function (el) {
      el.classList.toggle("hl", on);
    });
    card.classList.toggle("focusing", on);
  }
  rows.forEach(function (row) {
    var select = row.querySelector("select");
    var hovered = false;
    var focused = false;
    var show = function () { highlight(row, hovered || focused); };
    row.addEventListener("mouseenter", function () { hovered = true; show(); });
    row.addEventListener("mouseleave", function () { hovered = false; show(); });
    row.addEventListener("focusin", function () { focused = true; show(); });
    row.addEventListener("focusout", function (event) {
      focused = row.contains(event.relatedTarget);
      show();
    });
    row.addEventListener("change", function (event) {
      if (select && event.target === select && select.value) {
        // picking a class says the label's class is wrong (the label's own class: right)
        var wanted = select.value === row.dataset.cls ? "accept"
          : (row.querySelector("input[value=reject]") ? "reject" : "wrong_class");
        row.querySelector("input[value=" + wanted + "]").checked = true;
      } else if (select && event.target.type === "radio" &&
                 ["reject", "wrong_class"].indexOf(event.target.value) < 0) {
        select.value = "";
      }
      refresh();
    });
  });

  // -- missing objects per annotation: a point (click) or a box (drag) on the picture, or the
  // selected text; each with an optional class -----------------------------------------------
  var classOptions = document.getElementById("class-options");
  var round = function (v) { return Math.round(v * 10) / 10; };
  var clamp = function (v, lo, hi) { return Math.min(hi, Math.max(lo, v)); };
  function svgNode(name, attributes) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (k) { node.setAttribute(k, attributes[k]); });
    return node;
  }
  function rectBetween(node, a, b) {
    node.setAttribute("x", Math.min(a.x, b.x));
    node.setAttribute("y", Math.min(a.y, b.y));
    node.setAttribute("width", Math.abs(a.x - b.x));
    node.setAttribute("height", Math.abs(a.y - b.y));
  }
  // Characters (code points, as labelspec counts them) of the item's text before a DOM point;
  // the number tags after spans are not the item's text.
  function offsetOf(text, node, offset) {
    var range = document.createRange();
    range.setStart(text, 0);
    range.setEnd(node, offset);
    var walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
    var total = 0;
    var t;
    while ((t = walker.nextNode())) {
      if (!range.intersectsNode(t)) { break; }
      if (t.parentNode.closest(".tag, .more")) { continue; }
      total += Array.from(t === node ? t.data.slice(0, offset) : t.data).length;
    }
    return total;
  }
  function plainText(text) {
    var walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
    var parts = [];
    var t;
    while ((t = walker.nextNode())) {
      if (!t.parentNode.closest(".tag, .more")) { parts.push(t.data); }
    }
    return parts.join("");
  }

  all(document, ".missing").forEach(function (box) {
    var card = box.closest(".card");
    var list = box.querySelector(".missing-list");
    var svg = card.querySelector("svg.overlay");
    var text = card.querySelector(".text");
    var width = Number(box.dataset.width);
    var height = Number(box.dataset.height);
    var unit = svg ? Number(svg.dataset.unit) : 1; // image pixels per screen pixel
    var made = 0;

    function contradict() {
      // a missing object contradicts the annotation's explicit "no objects" answer
      var any = list.children.length > 0;
      all(card, '.review[data-kind="empty"]').forEach(function (row) {
        row.classList.toggle("contradicted", any);
        all(row, "input").forEach(function (input) {
          if (any) { input.checked = false; }
          input.disabled = any;
        });
      });
    }
    function marker(entry) {
      if (!svg) { return null; }
      var g = svgNode("g", {"class": "missing-mark", "data-m": entry.m});
      var shape = entry.box
        ? svgNode("rect", {"class": "edge"})
        : svgNode("circle", {"class": "edge", r: 5 * unit});
      var label = svgNode("text", {"font-size": 11 * unit});
      label.textContent = "M" + entry.m;
      g.appendChild(shape);
      g.appendChild(label);
      svg.appendChild(g);
      return g;
    }
    function place(entry) {
      if (!entry.mark) { return; }
      var shape = entry.mark.firstChild;
      var label = entry.mark.lastChild;
      var v = entry.box || entry.point;
      if (entry.box) {
        rectBetween(shape, {x: v[0], y: v[1]}, {x: v[0] + v[2], y: v[1] + v[3]});
      } else {
        shape.setAttribute("cx", v[0]);
        shape.setAttribute("cy", v[1]);
      }
      label.setAttribute("x", v[0] + 3 * unit);
      label.setAttribute("y", Math.max(11 * unit, v[1] - 3 * unit));
    }
    function numberInput(entry, index, name, limit) {
      var input = document.createElement("input");
      var values = entry.box || entry.point;
      input.type = "number";
      input.step = "0.1";
      input.min = "0";
      input.max = String(limit);
      input.value = values[index];
      input.setAttribute("aria-label", name + " of missing object M" + entry.m);
      input.addEventListener("change", function () {
        var v = Number(input.value);
        values[index] = round(clamp(isFinite(v) ? v : 0, 0, limit));
        input.value = values[index];
        place(entry);
      });
      var label = document.createElement("label");
      label.append(name + " ", input);
      return label;
    }
    function add(entry) {
      made += 1;
      entry.m = made;
      var item = document.createElement("li");
      item.className = "missing-entry";
      item.dataset.annotation = box.dataset.annotation;
      item.entry = entry;
      var tag = document.createElement("span");
      tag.className = "num m";
      tag.textContent = "M" + entry.m;
      item.append(tag, " ");
      if (entry.span) {
        var quote = document.createElement("q");
        quote.textContent = entry.quote;
        item.append("text ", quote, " (characters " + entry.span[0] + "-" + entry.span[1] + ") ");
      } else if (entry.box) {
        item.append("box ");
        ["x", "y", "w", "h"].forEach(function (name, i) {
          item.append(numberInput(entry, i, name, i % 2 ? height : width), " ");
        });
      } else {
        item.append("point ");
        item.append(numberInput(entry, 0, "x", width), " ", numberInput(entry, 1, "y", height), " ");
      }
      var select = document.createElement("select");
      select.setAttribute("aria-label", "class of missing object M" + entry.m);
      var none = document.createElement("option");
      none.value = "";
      none.textContent = "class (optional)";
      select.appendChild(none);
      select.appendChild(classOptions.content.cloneNode(true));
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove";
      remove.textContent = "remove";
      remove.setAttribute("aria-label", "remove missing object M" + entry.m);
      item.append(select, " ", remove);
      entry.mark = marker(entry);
      place(entry);
      remove.addEventListener("click", function () {
        item.remove();
        if (entry.mark) { entry.mark.remove(); }
        contradict();
        refresh();
      });
      list.appendChild(item);
      contradict();
      refresh();
    }

    if (svg) {
      var start = null;
      var ghost = null;
      var at = function (event) {
        var r = svg.getBoundingClientRect();
        return {
          x: round(clamp((event.clientX - r.left) / r.width * width, 0, width)),
          y: round(clamp((event.clientY - r.top) / r.height * height, 0, height)),
          sx: event.clientX,
          sy: event.clientY
        };
      };
      var stop = function () {
        if (ghost) { ghost.remove(); }
        start = null;
        ghost = null;
      };
      svg.addEventListener("pointerdown", function (event) {
        if (event.button !== 0) { return; }
        event.preventDefault();
        start = at(event);
        svg.setPointerCapture(event.pointerId);
        ghost = svgNode("rect", {"class": "ghost"});
        rectBetween(ghost, start, start);
        svg.appendChild(ghost);
      });
      svg.addEventListener("pointermove", function (event) {
        if (start) { rectBetween(ghost, start, at(event)); }
      });
      svg.addEventListener("pointerup", function (event) {
        if (!start) { return; }
        var a = start;
        var b = at(event);
        stop();
        if (Math.abs(b.sx - a.sx) > 4 || Math.abs(b.sy - a.sy) > 4) {
          var x = Math.min(a.x, b.x);
          var y = Math.min(a.y, b.y);
          add({box: [x, y, round(Math.max(a.x, b.x) - x), round(Math.max(a.y, b.y) - y)]});
        } else {
          add({point: [a.x, a.y]});
        }
      });
      svg.addEventListener("pointercancel", stop);
    }
    box.querySelector(".add-missing").addEventListener("click", function () {
      if (!text) {
        add({point: [round(width / 2), round(height / 2)]}); // then set x and y in the list
        return;
      }
      var selection = window.getSelection();
      var range = selection.rangeCount ? selection.getRangeAt(0) : null;
      if (!range || range.collapsed || !text.contains(range.startContainer) ||
          !text.contains(range.endContainer)) {
        alert("Select the missing words in this card's text first.");
        return;
      }
      var s = offsetOf(text, range.startContainer, range.startOffset);
      var e = offsetOf(text, range.endContainer, range.endOffset);
      if (e <= s) { return; }
      add({span: [s, e], quote: Array.from(plainText(text)).slice(s, e).join("")});
      selection.removeAllRanges();
    });
  });

  // -- the review file ------------------------------------------------------------------------
  saveButton.addEventListener("click", function () {
    var reviewerInput = document.getElementById("reviewer");
    var reviewer = reviewerInput.value.trim();
    if (!reviewer) { reviewerInput.focus(); alert("Who reviews? Fill in your reviewer id."); return; }
    var verdicts = [];
    var unpicked = null;
    rows.forEach(function (row) {
      var v = verdictOf(row);
      if (!v) { return; }
      var select = row.querySelector("select");
      var right = select ? select.value : "";
      var entry = {label_id: row.dataset.label, verdict: v};
      if ((v === "reject" || v === "wrong_class") && right) { entry.correct_class = right; }
      if (v === "wrong_class" && !right && !unpicked) { unpicked = select; }
      verdicts.push(entry);
    });
    if (unpicked) {
      unpicked.focus();
      alert("Pick the right class of each label marked wrong class.");
      return;
    }
    all(document, ".missing-entry").forEach(function (item) {
      var e = item.entry;
      var entry = {annotation_id: item.dataset.annotation, verdict: "missing_object"};
      if (e.span) { entry.span = e.span; } else if (e.box) { entry.box = e.box; } else { entry.point = e.point; }
      var cls = item.querySelector("select").value;
      if (cls) { entry["class"] = cls; }
      verdicts.push(entry);
    });
    var saved = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    var file = {kind: "labelspec-review", dataset: about.dataset, snapshot: about.snapshot,
                reviewer: reviewer, saved: saved, verdicts: verdicts};
    var blob = new Blob([JSON.stringify(file, null, 1) + "\n"], {type: "application/json"});
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "review-" + about.dataset + "-" + reviewer + "-" + saved.replace(/[-:]/g, "") + ".json";
    document.body.appendChild(link);
    link.click();
    link.remove();
  });
  refresh();
})();
