// Upload progress for the sell and edit forms. htmx posts them with
// XMLHttpRequest and fires htmx:xhr:progress on the form as the body is
// sent; this fills the form's <progress>. No inline script, no eval: the
// page's CSP allows only files served from this site.
(function () {
  "use strict";
  function box(evt) {
    var form = evt.target && evt.target.closest ? evt.target.closest("form") : null;
    return form ? form.querySelector("[data-upload-progress]") : null;
  }
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var b = box(evt);
    if (!b) return;
    var bar = b.querySelector("progress");
    bar.value = 0;
    bar.max = 100;
    b.hidden = false;
  });
  document.addEventListener("htmx:xhr:progress", function (evt) {
    var b = box(evt);
    if (!b || !evt.detail || !evt.detail.lengthComputable || !evt.detail.total) return;
    var bar = b.querySelector("progress");
    // Upload and then download progress both arrive here: never go back.
    var pct = Math.round((evt.detail.loaded / evt.detail.total) * 100);
    if (pct > bar.value) bar.value = pct;
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    var b = box(evt);
    if (b) b.querySelector("progress").value = 100;
  });
})();
