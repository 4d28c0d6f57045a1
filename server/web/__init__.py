"""What the browser pages share: serving their static files (fixed lists, security headers) and the message
catalogs of every language (static/i18n.js, static/en.json, static/es.json)."""
