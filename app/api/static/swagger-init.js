// Starts Swagger UI on /swagger/<version>; the spec URL comes from the page, not inline code.
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  if (!node || typeof SwaggerUIBundle === "undefined") {
    return;
  }
  window.ui = SwaggerUIBundle({
    url: node.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    // Swagger UI must not fetch a spec named in the page's query string (?url=...).
    queryConfigEnabled: false,
  });
})();
