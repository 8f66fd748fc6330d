// GraphiQL for chitieu, from assets served by the server itself (no CDN:
// offices run on intranets). The bearer token is entered once, kept in
// this browser's localStorage, and sent with every request and in the
// WebSocket's connection_init.
(function () {
  "use strict";
  var KEY = "chitieu.token";
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  var input = document.getElementById("token");
  var state = document.getElementById("token-state");

  function token() {
    try { return window.localStorage.getItem(KEY) || ""; } catch (e) { return ""; }
  }

  function render() {
    var t = token();
    var ws = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql";
    var fetcher = GraphiQL.createFetcher({
      url: location.origin + "/graphql",
      subscriptionUrl: ws,
      headers: t ? { Authorization: "Bearer " + t } : {},
      wsConnectionParams: t ? { Authorization: "Bearer " + t } : {},
    });
    state.textContent = t ? "đã lưu mã / token saved" : "chưa có mã / no token";
    root.render(React.createElement(GraphiQL, {
      key: t,
      fetcher: fetcher,
      defaultEditorToolsVisibility: false,
      defaultQuery: "# chitieu: chỉ tiêu nghị quyết và kết quả thực hiện\n{\n  orgUnits { code name }\n}\n",
    }));
  }

  input.value = token();
  document.getElementById("token-bar").addEventListener("submit", function (event) {
    event.preventDefault();
    try { window.localStorage.setItem(KEY, input.value.trim()); } catch (e) { /* private mode */ }
    render();
  });
  document.getElementById("forget-token").addEventListener("click", function () {
    try { window.localStorage.removeItem(KEY); } catch (e) { /* private mode */ }
    input.value = "";
    render();
  });
  render();
})();
