"""The team store's schema on PostgreSQL, its roles and its one ingest function, as SQL.

Roles (made by `callcoach central init`):
* callcoach_owner: owns every table and function; NOLOGIN, so nobody works as it.
* callcoach_desktop: what every desktop logs in as (TLS client certificate, CN desktop-NAME).
  It may call ingest_v1 and server_info, nothing else: it can read no table.
* callcoach_people: the group of people (agents, QA leads), each logging in as themselves.
  Row-level security shows an agent their own sessions and a lead their teams' sessions.

The desktop's identity is its certificate's CN, read by the server from the connection,
never from what the desktop sends. A session id already stored by another desktop is
refused, so one desktop cannot overwrite another's calls.

Each upgrade is a numbered step; `init` runs the steps the server has not had. Desktops
call `ingest_v<N>` by version: a server keeps the old function while desktops that call it
are in use, so desktops and the server can be upgraded at different times.
"""

from __future__ import annotations

SCHEMA_VERSION = 1
INGEST_FUNCTION = "callcoach.ingest_v1"  # what this CallCoach's uploader calls

OWNER, DESKTOP, PEOPLE = "callcoach_owner", "callcoach_desktop", "callcoach_people"

ROLES = {  # role -> CREATE ROLE options
    OWNER: "NOLOGIN",
    DESKTOP: "LOGIN",
    PEOPLE: "NOLOGIN",
}

# Step N takes the schema from version N-1 to N; each runs in one transaction, as the owner.
STEPS: dict[int, str] = {1: """
CREATE SCHEMA callcoach AUTHORIZATION callcoach_owner;
SET LOCAL ROLE callcoach_owner;
CREATE TABLE callcoach.schema_info (version integer NOT NULL);
INSERT INTO callcoach.schema_info VALUES (0);

CREATE TABLE callcoach.desktops (
    name       text PRIMARY KEY,  -- the certificate's CN
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE callcoach.people (
    login      text PRIMARY KEY,  -- their PostgreSQL role
    agent_name text UNIQUE,       -- the name their calls are stored under, if they take calls
    team       text,
    lead       boolean NOT NULL DEFAULT false  -- QA lead or supervisor of `team`
);

CREATE TABLE callcoach.sessions (
    id            text PRIMARY KEY,
    desktop       text NOT NULL,
    revision      bigint NOT NULL,
    started_at    timestamptz,
    agent         text,
    source        text,
    status        text NOT NULL,
    duration_s    double precision,
    worst_mood    double precision,
    escalated     boolean NOT NULL DEFAULT false,
    prompts_shown integer NOT NULL DEFAULT 0,
    prompts_acted integer NOT NULL DEFAULT 0,
    transcript    text,   -- every utterance's text, for the free-text search
    summary       jsonb NOT NULL,  -- the redacted session JSON, without word timings
    received_at   timestamptz NOT NULL DEFAULT now(),
    qa_score      real,
    qa_note       text,
    qa_by         text,
    qa_at         timestamptz
);
CREATE INDEX sessions_started ON callcoach.sessions (started_at);
CREATE INDEX sessions_agent ON callcoach.sessions (agent, started_at);
CREATE INDEX sessions_search ON callcoach.sessions USING gin (to_tsvector('english', coalesce(transcript, '')));

-- Whose sessions the person logged in may see: their own, and those of the teams they lead.
CREATE FUNCTION callcoach.visible_agents() RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, callcoach AS $$
    SELECT agent_name FROM people WHERE login = session_user AND agent_name IS NOT NULL
    UNION
    SELECT p.agent_name FROM people p JOIN people me ON me.team = p.team AND me.lead
    WHERE me.login = session_user AND p.agent_name IS NOT NULL
$$;

CREATE FUNCTION callcoach.led_agents() RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, callcoach AS $$
    SELECT p.agent_name FROM people p JOIN people me ON me.team = p.team AND me.lead
    WHERE me.login = session_user AND p.agent_name IS NOT NULL
$$;

ALTER TABLE callcoach.sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_own_and_led ON callcoach.sessions FOR SELECT TO callcoach_people
    USING (agent IN (SELECT callcoach.visible_agents()));
CREATE POLICY leads_review ON callcoach.sessions FOR UPDATE TO callcoach_people
    USING (agent IN (SELECT callcoach.led_agents())) WITH CHECK (agent IN (SELECT callcoach.led_agents()));

-- Who wrote a QA note, from the login, not from the client.
CREATE FUNCTION callcoach.stamp_qa() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    NEW.qa_by := session_user;
    NEW.qa_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER stamp_qa BEFORE UPDATE OF qa_score, qa_note ON callcoach.sessions
    FOR EACH ROW EXECUTE FUNCTION callcoach.stamp_qa();

-- The desktop calling: its certificate's CN (pg_stat_ssl, readable by the owner through
-- pg_read_all_stats), and only on a callcoach_desktop connection.
CREATE FUNCTION callcoach.calling_desktop() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT substring(client_dn FROM 'CN=([^,/]+)') FROM pg_stat_ssl
    WHERE pid = pg_backend_pid() AND ssl AND session_user = 'callcoach_desktop'
$$;

CREATE FUNCTION callcoach.server_info() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, callcoach AS $$
    SELECT jsonb_build_object('schema_version', max(version), 'ingest', jsonb_build_array(1))
    FROM schema_info
$$;

-- One batch of sessions from a desktop: rows, not table writes, so the tables can change
-- while desktops keep calling this. (id, revision) makes it idempotent: a revision the
-- server has is a no-op, a newer one replaces it, an older one is ignored.
CREATE FUNCTION callcoach.ingest_v1(batch jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, callcoach AS $$
DECLARE
    me text := calling_desktop();
    s jsonb;
    n integer;
    stored text[] := '{}';
    already text[] := '{}';
    refused text[] := '{}';
BEGIN
    IF me IS NULL THEN
        RAISE EXCEPTION 'ingest_v1: only a desktop with its client certificate may upload'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO desktops (name) VALUES (me) ON CONFLICT (name) DO UPDATE SET last_seen = now();
    FOR s IN SELECT * FROM jsonb_array_elements(batch) LOOP
        INSERT INTO sessions AS cur (id, desktop, revision, started_at, agent, source, status, duration_s,
                                     worst_mood, escalated, prompts_shown, prompts_acted, transcript, summary)
        VALUES (s->>'id', me, (s->>'revision')::bigint, (s->>'started_at')::timestamptz, s->>'agent',
                s->>'source', s->>'status', (s->>'duration_s')::double precision,
                (s->>'worst_mood')::double precision, coalesce((s->>'escalated')::boolean, false),
                coalesce((s->>'prompts_shown')::integer, 0), coalesce((s->>'prompts_acted')::integer, 0),
                s->>'transcript', s->'summary')
        ON CONFLICT (id) DO UPDATE SET
            revision = excluded.revision, started_at = excluded.started_at, agent = excluded.agent,
            source = excluded.source, status = excluded.status, duration_s = excluded.duration_s,
            worst_mood = excluded.worst_mood, escalated = excluded.escalated,
            prompts_shown = excluded.prompts_shown, prompts_acted = excluded.prompts_acted,
            transcript = excluded.transcript, summary = excluded.summary, received_at = now()
        WHERE cur.desktop = excluded.desktop AND cur.revision < excluded.revision;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n = 1 THEN
            stored := stored || (s->>'id');
        ELSIF EXISTS (SELECT 1 FROM sessions WHERE id = s->>'id' AND desktop = me) THEN
            already := already || (s->>'id');
        ELSE
            refused := refused || (s->>'id');
        END IF;
    END LOOP;
    RETURN jsonb_build_object('stored', to_jsonb(stored), 'already', to_jsonb(already),
                              'refused', to_jsonb(refused));
END $$;
"""}

# Run after every step, as the administrator: the grants, so a re-run repairs them.
GRANTS = """
REVOKE ALL ON SCHEMA callcoach FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA callcoach FROM PUBLIC, callcoach_desktop, callcoach_people;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA callcoach FROM PUBLIC, callcoach_desktop, callcoach_people;
GRANT pg_read_all_stats TO callcoach_owner;
GRANT USAGE ON SCHEMA callcoach TO callcoach_desktop, callcoach_people;
GRANT EXECUTE ON FUNCTION callcoach.ingest_v1(jsonb), callcoach.server_info() TO callcoach_desktop;
GRANT EXECUTE ON FUNCTION callcoach.server_info(), callcoach.visible_agents(), callcoach.led_agents()
    TO callcoach_people;
GRANT SELECT ON callcoach.sessions TO callcoach_people;
GRANT UPDATE (qa_score, qa_note) ON callcoach.sessions TO callcoach_people;
"""
