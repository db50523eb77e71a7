/* Starts Swagger UI on /schema (feedback/web/api_docs.py). A static file, not inline code, so
   the page works under the app's Content-Security-Policy. */
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
  });
});
