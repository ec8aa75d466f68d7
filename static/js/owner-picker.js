// The 责任人 picker, enhanced: the <select> keeps working without this script (grouped by work
// group, checked by the server). With it, the list shows only the people the server accepts for
// the chosen responsible group and supporting groups, and a search box narrows it by name.
// Every option carries, from the server's rule, the groups it is valid for:
//   data-group        the <optgroup> (work group) it is listed under,
//   data-responsible  groups whose items the person may own,
//   data-supporting   groups through which the person may own an item as a supporting group.
(function () {
  "use strict";

  function ids(text) {
    return (text || "").split(" ").filter(Boolean);
  }

  function start() {
    var select = document.getElementById("owner_id");
    var box = document.querySelector("[data-owner-search]");
    if (!select || !box) {
      return;
    }
    var search = document.getElementById("owner-search");
    var status = document.getElementById("owner-search-status");
    var groupField = document.getElementById("group_id");
    var form = select.form;

    // The full list, read once: [{label, options: [{value, text, group, responsible, supporting}]}].
    var loose = [];
    var groups = [];
    Array.prototype.forEach.call(select.children, function (node) {
      if (node.tagName === "OPTGROUP") {
        groups.push({
          label: node.label,
          options: Array.prototype.map.call(node.children, function (option) {
            return {
              value: option.value,
              text: option.textContent,
              group: option.getAttribute("data-group"),
              responsible: ids(option.getAttribute("data-responsible")),
              supporting: ids(option.getAttribute("data-supporting")),
            };
          }),
        });
      } else {
        loose.push({ value: node.value, text: node.textContent });
      }
    });

    function chosenGroup() {
      return groupField && groupField.value && groupField.value !== "None" ? groupField.value : "";
    }

    function supportingGroups() {
      if (!form) {
        return [];
      }
      return Array.prototype.filter
        .call(form.querySelectorAll('input[name="supporting_group_ids"]'), function (input) {
          return input.checked;
        })
        .map(function (input) {
          return input.value;
        });
    }

    function accepted(option, group, supporting) {
      if (!group) {
        return true; // no group chosen yet: the server decides
      }
      if (option.group !== group && supporting.indexOf(option.group) < 0) {
        return false;
      }
      return (
        option.responsible.indexOf(group) >= 0 ||
        supporting.some(function (id) {
          return option.supporting.indexOf(id) >= 0;
        })
      );
    }

    // An item's existing owner stays choosable even if the rule would not list them for its
    // groups today (the server keeps an unchanged owner too), so opening the form loses nothing.
    var initial = select.value;
    var initialGroup = chosenGroup();
    var initialSupporting = supportingGroups();
    var initialListed = loose.some(function (item) {
      return item.value === initial;
    });
    if (initial && !initialListed) {
      var found = null;
      var fits = groups.some(function (entry) {
        return entry.options.some(function (item) {
          if (item.value !== initial) {
            return false;
          }
          found = item;
          return accepted(item, initialGroup, initialSupporting);
        });
      });
      if (found && !fits) {
        loose.push({ value: found.value, text: found.text });
      }
    }

    function matches(option, words) {
      var text = option.text.toLowerCase();
      return words.every(function (word) {
        return text.indexOf(word) >= 0;
      });
    }

    function render(announceClear) {
      var current = select.value;
      var group = chosenGroup();
      var supporting = supportingGroups();
      var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      var fragment = document.createDocumentFragment();
      var people = {};
      var shown = 0;
      var keep = false;
      loose.forEach(function (item) {
        var option = new Option(item.text, item.value);
        fragment.appendChild(option);
        if (item.value === current) {
          keep = true;
        }
      });
      groups.forEach(function (entry) {
        var node = document.createElement("optgroup");
        node.label = entry.label;
        entry.options.forEach(function (item) {
          if (!accepted(item, group, supporting)) {
            return;
          }
          // The chosen person always stays listed, so typing a search never changes the choice.
          if (item.value !== current && !matches(item, words)) {
            return;
          }
          node.appendChild(new Option(item.text, item.value));
          if (item.value === current) {
            keep = true;
          }
          if (!people[item.value]) {
            people[item.value] = true;
            shown += 1;
          }
        });
        if (node.children.length) {
          fragment.appendChild(node);
        }
      });
      select.replaceChildren(fragment);
      select.value = keep ? current : loose.length ? loose[0].value : "";
      var message;
      if (announceClear && !keep) {
        message = status.getAttribute("data-cleared");
      } else if (!shown && words.length) {
        message = status.getAttribute("data-none");
      } else {
        message = status.getAttribute("data-count").replace("{n}", String(shown));
      }
      status.textContent = message;
    }

    box.hidden = false;
    search.addEventListener("input", function () {
      render(false);
    });
    if (groupField) {
      groupField.addEventListener("change", function () {
        render(true);
      });
    }
    if (form) {
      form.addEventListener("change", function (event) {
        if (event.target && event.target.name === "supporting_group_ids") {
          render(true);
        }
      });
    }
    render(false);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
