// The to-do page: plain JavaScript over the JSON API, same origin.
//
// Every change goes to the server first, and the list is then drawn again
// from what the server answered, never from what we hoped it would do. So
// the page can never show a to-do the server did not keep.
//
// Titles come from users, so they are put in the page with `textContent`,
// never `innerHTML`: a title such as `<img src=x onerror=...>` stays text.
"use strict";

const form = document.querySelector("#new-todo");
const titleInput = document.querySelector("#new-title");
const list = document.querySelector("#todo-list");
const count = document.querySelector("#count");
const problem = document.querySelector("#problem");
const clearCompleted = document.querySelector("#clear-completed");

// ANCHOR: api
// Calls the API. Resolves to the parsed JSON body (or null for an empty
// one); rejects with the server's own error message for a 4xx or 5xx.
async function api(method, url, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: keep the status line as the message below.
  }
  if (!response.ok) {
    const message = data && data.error ? data.error : text;
    throw new Error(`${response.status} ${response.statusText}: ${message}`);
  }
  return data;
}
// ANCHOR_END: api

function showProblem(error) {
  problem.textContent = error.message;
  problem.hidden = false;
}

function clearProblem() {
  problem.hidden = true;
  problem.textContent = "";
}

// ANCHOR: change
// Runs one change, then draws the list again, showing any error. The
// list says it is busy until it is drawn again (`aria-busy`), for screen
// readers and for the browser test, which must not click a row that is
// about to be replaced.
async function change(action) {
  list.setAttribute("aria-busy", "true");
  try {
    await action();
    clearProblem();
  } catch (error) {
    showProblem(error);
  }
  await refresh();
  list.removeAttribute("aria-busy");
}

async function refresh() {
  try {
    draw(await api("GET", "/todos"));
  } catch (error) {
    showProblem(error);
  }
}
// ANCHOR_END: change

function draw(todos) {
  list.replaceChildren(...todos.map(item));
  const left = todos.filter((todo) => !todo.completed).length;
  count.textContent = `${left} ${left === 1 ? "item" : "items"} left`;
  clearCompleted.disabled = !todos.some((todo) => todo.completed);
}

// One to-do: a checkbox, its title, and buttons to edit and delete it.
function item(todo) {
  const li = document.createElement("li");
  li.className = todo.completed ? "todo completed" : "todo";
  li.dataset.id = todo.id;

  const toggle = document.createElement("input");
  toggle.type = "checkbox";
  toggle.className = "toggle";
  toggle.checked = todo.completed;
  toggle.setAttribute("aria-label", `Completed: ${todo.title}`);
  toggle.addEventListener("change", () =>
    change(() => api("PATCH", todo.url, { completed: toggle.checked })),
  );

  // ANCHOR: title
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = todo.title;
  // ANCHOR_END: title

  const edit = document.createElement("button");
  edit.type = "button";
  edit.className = "edit";
  edit.textContent = "Edit";
  edit.setAttribute("aria-label", `Edit: ${todo.title}`);
  edit.addEventListener("click", () => startEditing(li, title, todo));

  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "delete";
  remove.textContent = "Delete";
  remove.setAttribute("aria-label", `Delete: ${todo.title}`);
  remove.addEventListener("click", () => change(() => api("DELETE", todo.url)));

  li.append(toggle, title, edit, remove);
  return li;
}

// Swaps the title for a text field, with the old title selected so that
// typing replaces it. Enter (or leaving the field) saves, Escape gives up.
function startEditing(li, title, todo) {
  const field = document.createElement("input");
  field.type = "text";
  field.className = "title-field";
  field.value = todo.title;
  field.setAttribute("aria-label", `New title for: ${todo.title}`);
  let done = false;
  const finish = (save) => {
    if (done) return;
    done = true;
    if (save && field.value !== todo.title) {
      change(() => api("PATCH", todo.url, { title: field.value }));
    } else {
      refresh();
    }
  };
  field.addEventListener("keydown", (event) => {
    if (event.key === "Enter") finish(true);
    if (event.key === "Escape") finish(false);
  });
  field.addEventListener("blur", () => finish(true));
  li.replaceChild(field, title);
  field.focus();
  field.select();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  // An empty title goes to the server too: its 400 is the rule, and the
  // page shows it rather than keeping a second copy of the rule here.
  const title = titleInput.value;
  change(async () => {
    await api("POST", "/todos", { title });
    titleInput.value = "";
  });
});

// The API has no "delete the completed ones", so delete them one by one.
clearCompleted.addEventListener("click", () =>
  change(async () => {
    const todos = await api("GET", "/todos");
    for (const todo of todos.filter((todo) => todo.completed)) {
      await api("DELETE", todo.url);
    }
  }),
);

refresh();
