// The reset link field (admin/user.html): focusing it selects the whole link, ready to copy.
// A convenience only: without it the field is still an ordinary read-only text box.
document.querySelectorAll("input.copy-field").forEach(function (field) {
  field.addEventListener("focus", function () { field.select(); });
});
