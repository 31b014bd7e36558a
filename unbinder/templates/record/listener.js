// Injected by `unbinder recipes record` into every frame of the recording browser. It reports
// what the person clicks, fills, selects and submits with Enter, described the way recipes find
// elements (role + accessible name, label, placeholder, text, test id, css), so that steps can be
// drafted. A password field's value is never reported.
(() => {
  if (window.__unbinderRecorderInstalled) return;
  window.__unbinderRecorderInstalled = true;

  const clean = (s) => (s || '').replace(/\s+/g, ' ').trim().slice(0, 80);
  const ids = new WeakMap();
  let nextId = 1;
  const idOf = (el) => {
    if (!ids.has(el)) ids.set(el, nextId++);
    return ids.get(el);
  };
  const typeOf = (el) => (el.getAttribute('type') || '').toLowerCase();
  const BUTTON_TYPES = ['submit', 'button', 'reset', 'image'];
  const TEXTBOX_TYPES = ['', 'text', 'tel', 'email', 'url', 'number'];

  function role(el) {
    const explicit = el.getAttribute('role');
    if (explicit) return explicit.split(/\s+/)[0];
    const tag = el.tagName.toLowerCase();
    const type = typeOf(el);
    if (tag === 'button' || (tag === 'input' && BUTTON_TYPES.includes(type))) return 'button';
    if (tag === 'a' && el.hasAttribute('href')) return 'link';
    if (tag === 'textarea') return 'textbox';
    if (tag === 'select') return el.multiple ? 'listbox' : 'combobox';
    if (tag === 'input') {
      if (type === 'checkbox') return 'checkbox';
      if (type === 'radio') return 'radio';
      if (type === 'search') return 'searchbox';
      if (TEXTBOX_TYPES.includes(type)) return 'textbox';
    }
    return null; // password fields have no role: they are found by label or placeholder
  }

  function labelText(el) {
    if (el.labels && el.labels.length) return clean(el.labels[0].innerText);
    return '';
  }

  function accessibleName(el) {
    const aria = el.getAttribute('aria-label');
    if (aria) return clean(aria);
    const by = el.getAttribute('aria-labelledby');
    if (by) {
      const text = by.split(/\s+/).map((id) => document.getElementById(id))
        .filter(Boolean).map((n) => n.innerText).join(' ');
      if (clean(text)) return clean(text);
    }
    const label = labelText(el);
    if (label) return label;
    const tag = el.tagName.toLowerCase();
    if (tag === 'input' && BUTTON_TYPES.includes(typeOf(el))) return clean(el.value);
    if (tag !== 'input' && tag !== 'textarea' && tag !== 'select') {
      const text = clean(el.innerText);
      if (text) return text;
    }
    return clean(el.getAttribute('title') || el.getAttribute('placeholder'));
  }

  function css(el) {
    const tag = el.tagName.toLowerCase();
    if (el.id && /^[A-Za-z][\w-]*$/.test(el.id) && !/\d{3,}/.test(el.id)) return `#${el.id}`;
    const name = el.getAttribute('name');
    if (name && /^[\w\-\[\]]+$/.test(name)) return `${tag}[name="${name}"]`;
    const type = typeOf(el);
    if (tag === 'input' && type) return `input[type="${type}"]`;
    return tag;
  }

  function describe(el) {
    const tag = el.tagName.toLowerCase();
    const field = tag === 'input' || tag === 'textarea' || tag === 'select';
    return {
      id: idOf(el),
      tag,
      role: role(el),
      name: accessibleName(el),
      label: labelText(el),
      placeholder: clean(el.getAttribute('placeholder')),
      text: field ? '' : clean(el.innerText),
      testid: el.getAttribute('data-testid') || el.getAttribute('data-test-id') || '',
      css: css(el),
      type: typeOf(el),
      autocomplete: (el.getAttribute('autocomplete') || '').toLowerCase(),
      field_name: el.getAttribute('name') || '',
    };
  }

  // The page as it is at the moment of an action: a click may navigate away right after.
  const page = () => '<!doctype html>\n' + document.documentElement.outerHTML;

  function send(kind, el, extra) {
    try {
      window.__unbinderRecord(Object.assign({ kind, url: location.href }, describe(el), extra || {}));
    } catch (e) {
      // the binding is gone (the recording ended): nothing to report to
    }
  }

  const CLICKABLE = 'button, a[href], input, select, textarea, summary, label, [role=button], ' +
    '[role=link], [role=tab], [role=checkbox], [role=radio], [role=menuitem], [role=option]';

  document.addEventListener('click', (event) => {
    if (!(event.target instanceof Element)) return;
    const el = event.target.closest(CLICKABLE) || event.target;
    const tag = el.tagName.toLowerCase();
    const type = typeOf(el);
    // Focusing a field is not a step; filling it is reported below.
    if (tag === 'textarea' || tag === 'select') return;
    if (tag === 'input' && !BUTTON_TYPES.includes(type) && type !== 'checkbox' && type !== 'radio') return;
    send('click', el, { html: page() });
  }, true);

  document.addEventListener('input', (event) => {
    const el = event.target;
    if (!(el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement)) return;
    if (['checkbox', 'radio'].includes(typeOf(el))) return;
    const secret = typeOf(el) === 'password';
    send('fill', el, { value: secret ? null : el.value, secret });
  }, true);

  document.addEventListener('change', (event) => {
    const el = event.target;
    if (el instanceof HTMLSelectElement) send('select', el, { value: el.value, html: page() });
  }, true);

  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || !(event.target instanceof HTMLInputElement)) return;
    send('press', event.target, { key: 'Enter', html: page() });
  }, true);
})();
