// ReDoc from Baton's own copy of the standalone bundle.
(function () {
  "use strict";
  var root = document.getElementById("redoc");
  Redoc.init(root.getAttribute("data-openapi-url"), { hideDownloadButton: false }, root);
})();
