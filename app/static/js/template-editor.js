/*
 * Line numbers beside the template editor's <textarea>.
 *
 * The server already draws the numbers of the saved body (and marks the line of a
 * syntax error), so the page works without this script; this keeps the gutter in
 * step while typing and scrolling. Served from our origin: no CDN, no inline code.
 */
(function () {
    "use strict";

    function setUp(editor) {
        var text = editor.querySelector("textarea");
        var gutter = editor.querySelector(".template-editor-gutter");
        if (!text || !gutter) {
            return;
        }
        var errorLine = parseInt(editor.getAttribute("data-error-line") || "0", 10);
        var shown = -1;

        function draw() {
            var count = text.value.split("\n").length;
            if (count === shown) {
                return;
            }
            shown = count;
            var fragment = document.createDocumentFragment();
            for (var line = 1; line <= count; line++) {
                var span = document.createElement("span");
                span.textContent = String(line);
                if (line === errorLine) {
                    span.className = "error-line";
                }
                fragment.appendChild(span);
            }
            gutter.textContent = "";
            gutter.appendChild(fragment);
        }

        function follow() {
            gutter.scrollTop = text.scrollTop;
        }

        text.addEventListener("input", draw);
        text.addEventListener("scroll", follow);
        draw();
        if (errorLine > 0) {
            // Bring the faulty line into view.
            var lineHeight = parseFloat(window.getComputedStyle(text).lineHeight) || 18;
            text.scrollTop = Math.max(0, (errorLine - 5) * lineHeight);
            follow();
        }
    }

    document.addEventListener("DOMContentLoaded", function () {
        var editors = document.querySelectorAll(".template-editor");
        for (var i = 0; i < editors.length; i++) {
            setUp(editors[i]);
        }
    });
})();
