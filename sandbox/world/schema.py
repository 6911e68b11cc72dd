"""The sandbox's SQLite tables (sandbox/world/store.py creates them; push messages keep their own
in sandbox/world/push_messages.py)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS apps (
    app_key TEXT PRIMARY KEY,
    app_secret TEXT NOT NULL,
    rate_per_sec REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sellers (
    member_id TEXT PRIMARY KEY,
    login_id TEXT NOT NULL,
    name TEXT NOT NULL,
    ali_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sequences (
    name TEXT PRIMARY KEY,
    next_value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS auth_codes (
    code TEXT PRIMARY KEY,
    app_key TEXT NOT NULL,
    member_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    refresh_token TEXT PRIMARY KEY,
    app_key TEXT NOT NULL,
    member_id TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS access_tokens (
    access_token TEXT PRIMARY KEY,
    refresh_token TEXT,
    app_key TEXT NOT NULL,
    member_id TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS uploaded_images (
    image_id TEXT PRIMARY KEY,
    image_hash INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS offers (
    product_id INTEGER PRIMARY KEY,
    member_id TEXT NOT NULL,
    status TEXT NOT NULL,
    category_id INTEGER NOT NULL,
    subject TEXT NOT NULL,
    cargo_number TEXT,
    create_ms INTEGER NOT NULL,
    last_update_ms INTEGER NOT NULL,
    price_fen INTEGER,          -- list_price() in fen, for the search price filter and sort
    month_sold INTEGER NOT NULL DEFAULT 0,
    image_hash INTEGER          -- average hash of the main picture (signed 64-bit)
);
-- Kept apart so that scans of the narrow offers table (search, counts) stay small.
CREATE TABLE IF NOT EXISTS offer_payloads (
    product_id INTEGER PRIMARY KEY,
    payload TEXT NOT NULL       -- productInfo as JSON
);
CREATE INDEX IF NOT EXISTS offers_member_modified ON offers (member_id, last_update_ms);
CREATE INDEX IF NOT EXISTS offers_member_cargo ON offers (member_id, cargo_number);
-- last_update_ms makes this index cover the "modify window sorted by ID" page scan.
CREATE INDEX IF NOT EXISTS offers_member_product ON offers (member_id, product_id, last_update_ms);
-- Live offer changes: APIs an app is refused (gw.APIACLDecline), knobs, relists per day.
CREATE TABLE IF NOT EXISTS api_declines (
    app_key TEXT NOT NULL,
    api TEXT NOT NULL,
    PRIMARY KEY (app_key, api)
);
-- alibaba.product.follow: who (app + member) follows which offer (sandbox/apis/buyer.py).
CREATE TABLE IF NOT EXISTS follows (
    app_key TEXT NOT NULL,
    member_id TEXT NOT NULL,
    product_id INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (app_key, member_id, product_id)
);
CREATE TABLE IF NOT EXISTS limits (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS republished (
    member_id TEXT NOT NULL,
    day TEXT NOT NULL,          -- China date, yyyyMMdd
    count INTEGER NOT NULL,
    PRIMARY KEY (member_id, day)
);
"""
# Publishing (sandbox/apis/publish.py, photobank.py): SKU cargo numbers the list's cargoNumber
# filter also matches, photobank albums and photos, and audits that settle later.
PUBLISH_SCHEMA = """
CREATE TABLE IF NOT EXISTS sku_cargo_numbers (
    member_id TEXT NOT NULL,
    cargo_number TEXT NOT NULL,
    product_id INTEGER NOT NULL,
    PRIMARY KEY (member_id, cargo_number, product_id)
);
CREATE INDEX IF NOT EXISTS sku_cargo_numbers_product ON sku_cargo_numbers (product_id);
CREATE TABLE IF NOT EXISTS photobank_albums (
    album_id INTEGER PRIMARY KEY,
    member_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS photobank_photos (
    image_id INTEGER PRIMARY KEY,
    member_id TEXT NOT NULL,
    album_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS photobank_photos_path ON photobank_photos (member_id, path);
CREATE TABLE IF NOT EXISTS audits (
    product_id INTEGER PRIMARY KEY,
    due_ms INTEGER NOT NULL,
    verdict TEXT NOT NULL,      -- published | untread
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audits_due ON audits (due_ms);
"""
PUBLISH_TABLES = ("sku_cargo_numbers", "photobank_albums", "photobank_photos", "audits")
