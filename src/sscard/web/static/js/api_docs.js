/* The API reference (/api/docs): Swagger UI from the vendored bundle.
   An operation's header is one toggle button; Swagger UI puts the operation's deep link
   inside it as a second, nested link, which screen readers and keyboards trip over. The
   plugin below draws that inner link as plain text; the address still follows the open
   operation and /api/docs#/<tag>/<operation> still opens it (deepLinking). */
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");

  function noLinkInsideToggles() {
    return {
      wrapComponents: {
        DeepLink: function (Original, system) {
          return function (props) {
            var insideToggle = String(props.path || "").indexOf("/") !== -1;
            var shown = Object.assign({}, props, { enabled: props.enabled && !insideToggle });
            return system.React.createElement(Original, shown);
          };
        },
      },
    };
  }

  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    plugins: [noLinkInsideToggles],
  });
})();
