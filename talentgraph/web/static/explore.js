// The analyst graph view (/explore/{id}, talentgraph/web/explore.py).
// Everything drawn here comes from POST /graphql under the caller's own credential, so the role
// policy has already masked every node and field; this script keeps no second data path.
// Record text only ever reaches the page through textContent or cytoscape's canvas labels (names may
// hold markup such as <script>), never through innerHTML.
(function () {
  "use strict";

  // sessionStorage: the key lives as long as the tab, and the playground (same origin, same tab)
  // reads it to fill its Headers when the analyst follows a "query in the playground" link.
  var KEY_STORAGE = "talentgraph.key";
  var NEIGHBOURHOOD_LIMIT = 50;
  var MAX_HOPS = 6;  // graph/port.py MAX_PATH_HOPS

  var QUERIES = {
    neighbourhood: [
      "query ExploreNeighbourhood($id: ID!, $depth: Int!, $limit: Int!) {",
      "  neighbourhood(id: $id, depth: $depth, limit: $limit) {",
      "    truncated",
      "    nodes { id type title }",
      "    edges { type fromId toId properties }",
      "  }",
      "}"].join("\n"),
    path: [
      "query ExplorePath($from: ID!, $to: ID!, $maxHops: Int!) {",
      "  path(from: $from, to: $to, maxHops: $maxHops) {",
      "    hops",
      "    nodes { id type title }",
      "    edges { type fromId toId properties }",
      "  }",
      "}"].join("\n"),
    // Which fields each type has for this caller: the role's own schema leaves out what it may not read.
    fields: [
      "query ExploreFields {",
      "  __type(name: \"Node\") {",
      "    possibleTypes { name fields { name args { name } type { kind name ofType { kind name",
      "      ofType { kind name ofType { kind name ofType { kind name } } } } } } }",
      "  }",
      "}"].join("\n")
  };

  var $ = function (id) { return document.getElementById(id); };
  var root = document.body.getAttribute("data-root");
  var state = { pending: 0, fields: null, expanded: {}, selected: null, errors: [] };

  // --- talking to /graphql ------------------------------------------------------------------------

  function AuthError(message) { this.message = message; }

  function gql(query, variables) {
    var headers = { "Content-Type": "application/json", "Accept": "application/graphql-response+json, application/json" };
    var key = sessionStorage.getItem(KEY_STORAGE);
    if (key) { headers.Authorization = "Bearer " + key; }
    state.pending += 1;
    // The key is the only credential sent: /graphql takes bearer credentials (which a cross-site page
    // cannot send); the staff page's session cookie covers only the staff page's paths (web/session.py).
    return fetch("/graphql", { method: "POST", headers: headers, credentials: "omit",
                               body: JSON.stringify({ query: query, variables: variables || {} }) })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (r.status === 401) { throw new AuthError(firstMessage(body) || "Not signed in."); }
          if (body.errors && body.errors.length) { throw new Error(firstMessage(body)); }
          if (!r.ok) { throw new Error("The server answered " + r.status + "."); }
          return body.data;
        });
      })
      .finally(function () { state.pending -= 1; });
  }

  function firstMessage(body) {
    var e = body && body.errors && body.errors[0];
    if (!e) { return ""; }
    var hint = e.extensions && e.extensions.hint;
    return e.message + (hint ? " " + hint : "");
  }

  function fail(err) {
    state.errors.push(String(err && err.message || err));
    if (err instanceof AuthError) {
      status("需要 API key · Enter an API key to see the graph (" + err.message + ")", true);
      $("key-input").focus();
    } else {
      status(String(err && err.message || err), true);
    }
  }

  function status(text, isError) {
    var s = $("status");
    s.textContent = text;
    s.classList.toggle("error", !!isError);
  }

  // A link that opens the same query in the playground. The fragment carries it: fragments never
  // reach the server (nor its logs), and /graphql?query=… would run the query instead of showing it.
  function playgroundHref(query, variables) {
    return "/graphql#query=" + encodeURIComponent(query) + "&variables=" + encodeURIComponent(JSON.stringify(variables, null, 2));
  }

  // --- drawing ------------------------------------------------------------------------------------

  var colours = {};
  function colourOf(type) {
    if (!(type in colours)) {
      var swatch = document.querySelector("#legend .t-" + (window.CSS && CSS.escape ? CSS.escape(type) : type));
      colours[type] = swatch ? getComputedStyle(swatch).backgroundColor : "#888888";
    }
    return colours[type];
  }

  var cy = cytoscape({
    container: $("cy"),
    minZoom: 0.2,
    maxZoom: 3,
    style: [
      { selector: "node", style: {
        "background-color": "data(colour)", "label": "data(label)", "font-size": 13, "color": "#1d2330",
        "text-valign": "bottom", "text-margin-y": 4, "text-wrap": "ellipsis", "text-max-width": "140px",
        "width": 30, "height": 30, "border-width": 0 } },
      { selector: "node.expanded", style: { "border-width": 3, "border-color": "#1d2330", "border-style": "double" } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#f0a43a", "border-style": "solid" } },
      { selector: "edge", style: {
        "label": "data(type)", "font-size": 10, "color": "#5b6472", "text-rotation": "autorotate",
        "curve-style": "bezier", "target-arrow-shape": "triangle", "width": 1.5,
        "line-color": "#aab2bf", "target-arrow-color": "#aab2bf", "text-background-color": "#fff",
        "text-background-opacity": 0.8 } },
      { selector: "edge.onpath", style: { "line-color": "#f0a43a", "target-arrow-color": "#f0a43a", "width": 5,
        "z-index": 10 } },
      { selector: "node.onpath", style: { "border-width": 5, "border-color": "#f0a43a", "border-style": "solid",
        "font-weight": "bold", "z-index": 10 } },
      { selector: ".dim", style: { "opacity": 0.2 } }
    ],
    elements: []
  });

  function edgeId(e) { return e.fromId + " " + e.type + " " + e.toId; }

  // Adds what the API returned; new nodes start beside `near` so the layout moves them little.
  function addGraph(result, near) {
    var added = [];
    var origin = near && near.nonempty() ? near.position() : { x: 0, y: 0 };
    var fresh = result.nodes.filter(function (n) { return cy.getElementById(n.id).empty(); });
    cy.batch(function () {
      // New nodes start on a ring around the node they were found from; the layout then spreads them.
      fresh.forEach(function (n, i) {
        var angle = 2 * Math.PI * i / fresh.length;
        added.push(cy.add({ group: "nodes", data: {
          id: n.id, type: n.type, title: n.title, label: n.title || n.id, colour: colourOf(n.type)
        }, position: { x: origin.x + 160 * Math.cos(angle), y: origin.y + 160 * Math.sin(angle) } }));
      });
      result.edges.forEach(function (e) {
        var id = edgeId(e);
        if (cy.getElementById(id).nonempty()) { return; }
        if (cy.getElementById(e.fromId).empty() || cy.getElementById(e.toId).empty()) { return; }
        cy.add({ group: "edges", data: { id: id, source: e.fromId, target: e.toId, type: e.type,
                                         properties: e.properties || {} } });
      });
    });
    return added.length;
  }

  function layout() {
    cy.layout({ name: "cose", animate: false, randomize: false, fit: true, padding: 50, nodeOverlap: 40,
                nodeRepulsion: function () { return 60000; }, idealEdgeLength: function () { return 70; },
                numIter: 1500 }).run();
  }

  function clearPath() { cy.elements().removeClass("onpath dim"); }

  // --- the three views: neighbourhood, path, one node ---------------------------------------------

  function expand(id) {
    var variables = { id: id, depth: 1, limit: NEIGHBOURHOOD_LIMIT };
    status("加载中 Loading " + id + "…");
    return gql(QUERIES.neighbourhood, variables).then(function (data) {
      var hood = data.neighbourhood;
      if (!hood) {
        status("没有找到 " + id + " · No entity " + id + " (or your role may not see it).", true);
        return;
      }
      clearPath();
      var added = addGraph(hood, cy.getElementById(id));
      state.expanded[id] = true;
      cy.getElementById(id).addClass("expanded");
      layout();
      if (state.selected) { renderNeighbours(state.selected); }
      $("view-query").href = playgroundHref(QUERIES.neighbourhood, variables);
      status(cy.nodes().length + " 个节点 nodes · " + added + " new around " + id +
             (hood.truncated ? " · 只显示前 " + NEIGHBOURHOOD_LIMIT + " 个 (first " + NEIGHBOURHOOD_LIMIT + " shown)" : ""));
    });
  }

  function findPath(from, to) {
    var variables = { from: from, to: to, maxHops: MAX_HOPS };
    status("查找路径 Finding a path…");
    return gql(QUERIES.path, variables).then(function (data) {
      $("view-query").href = playgroundHref(QUERIES.path, variables);
      clearPath();
      var path = data.path;
      if (!path) {
        status("在 " + MAX_HOPS + " 步内没有路径 · No path within " + MAX_HOPS + " hops that your role may see.", true);
        return;
      }
      addGraph(path, cy.getElementById(from));
      layout();
      var onPath = cy.collection();
      path.nodes.forEach(function (n) { onPath = onPath.union(cy.getElementById(n.id)); });
      path.edges.forEach(function (e) { onPath = onPath.union(cy.getElementById(edgeId(e))); });
      onPath.addClass("onpath");
      cy.elements().not(onPath).addClass("dim");
      status("路径 Path: " + path.hops + " 步 hops · " + path.nodes.map(function (n) { return n.title || n.id; }).join(" → "));
    });
  }

  function typeFields() {
    if (state.fields) { return Promise.resolve(state.fields); }
    return gql(QUERIES.fields, {}).then(function (data) {
      var out = {};
      (data.__type ? data.__type.possibleTypes : []).forEach(function (t) {
        out[t.name] = t.fields.filter(function (f) { return !f.args.length; }).map(function (f) {
          var ty = f.type;
          while (ty.ofType) { ty = ty.ofType; }
          if (ty.kind === "SCALAR" || ty.kind === "ENUM") { return f.name; }
          if (ty.kind === "OBJECT" && ty.name === "VocabLabel") { return f.name + " { zh en }"; }
          return null;
        }).filter(function (s) { return s && !/^(id|type|title)$/.test(s); });
      });
      state.fields = out;
      return out;
    });
  }

  function nodeQuery(type, fields) {
    return ["query ExploreNode($id: ID!) {", "  node(id: $id) {", "    id type title",
            "    ... on " + type + " {"].concat(fields.map(function (f) { return "      " + f; }))
      .concat(["    }", "  }", "}"]).join("\n");
  }

  function showNode(id) {
    var el = cy.getElementById(id);
    var type = el.data("type");
    state.selected = id;
    $("panel-title").textContent = el.data("label");
    $("panel-meta").textContent = type + " · " + id;
    $("panel-fields").replaceChildren();
    $("panel-explore").href = "/explore/" + encodeURIComponent(id);
    $("panel-links").hidden = false;
    $("path-from").value = id;
    renderNeighbours(id);
    return typeFields().then(function (fields) {
      var query = nodeQuery(type, fields[type] || []);
      $("panel-query").href = playgroundHref(query, { id: id });
      return gql(query, { id: id });
    }).then(function (data) {
      if (state.selected !== id || !data.node) { return; }
      renderFields(data.node);
    });
  }

  function renderFields(node) {
    var dl = $("panel-fields");
    dl.replaceChildren();
    Object.keys(node).forEach(function (name) {
      if (name === "id" || name === "type" || name === "title") { return; }
      // A vocabulary field is shown by its labels ("俄语 Russian") rather than its codes.
      if (Object.prototype.hasOwnProperty.call(node, name + "Labels") && node[name + "Labels"].length) { return; }
      var text = readable(node[name]);
      if (text === "") { return; }
      var dt = document.createElement("dt");
      dt.textContent = name.replace(/Labels$/, "");
      var dd = document.createElement("dd");
      dd.textContent = text;
      dl.append(dt, dd);
    });
    if (!dl.children.length) {
      var p = document.createElement("dd");
      p.textContent = "(no fields your role may read)";
      dl.append(p);
    }
  }

  // The canvas cannot take keyboard focus: the panel lists the selected node's neighbours as buttons
  // that do what a click on the graph does.
  function renderNeighbours(id) {
    var list = $("panel-neighbours");
    list.replaceChildren();
    var el = cy.getElementById(id);
    el.connectedEdges().forEach(function (edge) {
      var other = edge.source().id() === id ? edge.target() : edge.source();
      var li = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = other.data("label");
      button.addEventListener("click", function () { select(other.id()); });
      var how = document.createElement("span");
      how.textContent = " " + (edge.source().id() === id ? "→ " : "← ") + edge.data("type") + " · " + other.data("type");
      li.append(button, how);
      list.append(li);
    });
  }

  function select(id) {
    cy.elements().unselect();
    cy.getElementById(id).select();
    var work = [showNode(id)];
    if (!state.expanded[id]) { work.push(expand(id)); }
    return Promise.all(work).catch(fail);
  }

  function readable(value) {
    if (value === null || value === undefined) { return ""; }
    if (Array.isArray(value)) { return value.map(readable).filter(Boolean).join(", "); }
    if (typeof value === "object") {
      if ("zh" in value || "en" in value) { return [value.zh, value.en].filter(Boolean).join(" "); }
      return JSON.stringify(value);
    }
    return String(value);
  }

  // --- wiring -------------------------------------------------------------------------------------

  function start() {
    cy.elements().remove();
    state.expanded = {};
    return expand(root).then(function () {
      if (cy.getElementById(root).nonempty()) { return select(root); }
    }).catch(fail);
  }

  cy.on("tap", "node", function (evt) { select(evt.target.id()); });
  cy.on("tap", function (evt) { if (evt.target === cy) { clearPath(); } });

  $("key-form").addEventListener("submit", function (evt) {
    evt.preventDefault();
    var key = $("key-input").value.trim();
    if (key) { sessionStorage.setItem(KEY_STORAGE, key); }
    $("key-input").value = "";
    state.fields = null;  // another key may be another role, with other fields
    start();
  });
  $("key-forget").addEventListener("click", function () {
    sessionStorage.removeItem(KEY_STORAGE);
    state.fields = null;
    state.selected = null;
    cy.elements().remove();
    $("panel-title").textContent = "";
    $("panel-meta").textContent = "";
    $("panel-fields").replaceChildren();
    $("panel-neighbours").replaceChildren();
    $("panel-links").hidden = true;
    status("Key forgotten. 已清除");
  });
  $("path-form").addEventListener("submit", function (evt) {
    evt.preventDefault();
    findPath($("path-from").value.trim(), $("path-to").value.trim()).catch(fail);
  });
  $("reset").addEventListener("click", function () { start(); });

  // For the browser tests and the curious: the graph as drawn, and whether requests are in flight.
  window.tgExplore = {
    cy: cy,
    get pending() { return state.pending; },
    get errors() { return state.errors.slice(); },
    expand: expand,
    findPath: findPath
  };

  // Like the playground, a link may bring the key in its fragment (#key=…), which never reaches the
  // server: kept for this tab, then wiped from the address bar.
  var linkedKey = new URLSearchParams(window.location.hash.slice(1)).get("key");
  if (linkedKey) {
    sessionStorage.setItem(KEY_STORAGE, linkedKey);
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }

  $("view-query").href = playgroundHref(QUERIES.neighbourhood, { id: root, depth: 1, limit: NEIGHBOURHOOD_LIMIT });
  start();
}());
