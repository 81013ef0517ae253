/*
 * select2 (shipped with Flask-AppBuilder) speaks English unless told otherwise: the
 * "Remove all items" tooltip of the "×" that clears a choice, "No results found"…
 * The page carries the translations on this script's data-* attributes (layout.html);
 * set as select2's defaults before FAB's ab.js and our lookup-select.js build the selects.
 */
(function ($, script) {
    "use strict";
    if (!$ || !$.fn.select2 || !script) {
        return;
    }
    var text = script.dataset;
    $.fn.select2.defaults.set("language", {
        errorLoading: function () { return text.errorLoading; },
        loadingMore: function () { return text.loadingMore; },
        noResults: function () { return text.noResults; },
        removeAllItems: function () { return text.removeAllItems; },
        searching: function () { return text.searching; }
    });
})(window.jQuery, document.currentScript);
