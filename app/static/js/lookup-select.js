/*
 * Remote-search selects for MonAssurance forms and list filters.
 *
 * A <select class="lookup-select" data-lookup-url="/lookup/client"> holds only
 * its current choice; select2 (shipped with Flask-AppBuilder) asks our lookup
 * endpoint for one page of matches at a time, so no page ever embeds a table.
 * Texts come from data-* attributes, already translated by the server.
 */
(function ($) {
    "use strict";

    function initLookupSelect(element) {
        var $select = $(element);
        if ($select.data("select2")) {
            return;
        }
        var data = element.dataset;
        $select.select2({
            theme: "bootstrap",
            width: "100%",
            allowClear: data.allowClear === "true",
            placeholder: data.placeholder || "",
            minimumInputLength: 0,
            ajax: {
                url: data.lookupUrl,
                dataType: "json",
                delay: 250,
                cache: true,
                data: function (params) {
                    return {q: params.term || "", page: params.page || 1};
                }
            },
            language: {
                searching: function () { return data.textSearching; },
                noResults: function () { return data.textNoResults; },
                loadingMore: function () { return data.textLoadingMore; },
                errorLoading: function () { return data.textError; }
            }
        });
    }

    function initAll(root) {
        $("select.lookup-select", root || document).each(function () {
            initLookupSelect(this);
        });
    }

    $(function () {
        initAll(document);
        // FAB's "Add filter" menu appends the filter's input when clicked; our
        // delegated handler runs after FAB's own, once the input is in the page.
        $(document).on("click", "a.filter", function () {
            initAll(document);
        });
    });
})(jQuery);
