// FAB's list script (ab_actions.js) alerts "No row selected" in English: show the
// translation the page carries (templates/appbuilder/general/alert.html) instead.
document.addEventListener("DOMContentLoaded", function () {
    var fabAlert = window.ab_alert;
    var modal = document.getElementById("modal-alert");
    if (typeof fabAlert !== "function" || !modal) {
        return;
    }
    var noRowSelected = modal.getAttribute("data-no-row-selected");
    window.ab_alert = function (text) {
        fabAlert(text === "No row selected" && noRowSelected ? noRowSelected : text);
    };
});
