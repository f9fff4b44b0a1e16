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

SCHEMA_VERSION = 2  # 2: the live board (live_calls, live_v1, acknowledge_v1, my_channels)
INGEST_FUNCTION = "callcoach.ingest_v1"  # what this CallCoach's uploader calls
LIVE_FUNCTION = "callcoach.live_v1"  # what a desktop sharing live status calls
LIVE_CHANNEL_PREFIX = "callcoach_live_"  # + md5(team): a board LISTENs to its teams' channels

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

-- The desktop calling: its certificate's CN (this backend's own activity row, readable by
-- the owner through pg_read_all_stats; pg_stat_ssl would build a row for every connection,
-- a thousand on a floor, at every status), and only on a callcoach_desktop connection.
CREATE FUNCTION callcoach.calling_desktop() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT substring(ssl_client_dn FROM 'CN=([^,/]+)') FROM pg_stat_get_activity(pg_backend_pid())
    WHERE ssl AND session_user = 'callcoach_desktop'
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
""", 2: """
SET LOCAL ROLE callcoach_owner;
-- One row per desktop: its call now, a few numbers, no words (but the handoff note of an
-- escalation, when the policy lets the desktop send it). Never read by desktops.
CREATE TABLE callcoach.live_calls (
    desktop         text PRIMARY KEY,
    call_id         text NOT NULL,
    agent           text,
    started_at      timestamptz,
    call_s          double precision,
    mood            double precision,
    mood_state      text,
    mood_trend      text,
    pace_state      text,      -- slow | ok | fast
    talk_share      double precision,
    dead_air_s      double precision,
    prompt_kind     text,
    prompt_severity text,
    prompt_title    text,
    escalation      boolean NOT NULL DEFAULT false,
    handoff_note    text,
    ended           boolean NOT NULL DEFAULT false,
    updated_at      timestamptz NOT NULL DEFAULT now(),  -- the server's clock: a heartbeat
    notified_at     timestamptz NOT NULL DEFAULT now(),  -- when the boards were last told of it
    ack_by          text,      -- the supervisor on the way
    ack_at          timestamptz
);
ALTER TABLE callcoach.live_calls ENABLE ROW LEVEL SECURITY;
CREATE POLICY leads_watch ON callcoach.live_calls FOR SELECT TO callcoach_people
    USING (agent IN (SELECT callcoach.led_agents()));

CREATE FUNCTION callcoach.team_of(agent_name text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, callcoach AS $$
    SELECT team FROM people WHERE people.agent_name = team_of.agent_name
$$;

-- The channel a board of `team` listens on; the payload is only the desktop's name, and
-- the board reads the row through row-level security.
CREATE FUNCTION callcoach.live_channel(team text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
    SELECT 'callcoach_live_' || md5(coalesce(team, ''))
$$;

-- The channels the board of the person logged in listens on: those of the teams they lead
-- (people is not readable by people, and a board must not learn of other teams).
CREATE FUNCTION callcoach.my_channels() RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, callcoach AS $$
    SELECT DISTINCT live_channel(team) FROM people WHERE login = session_user AND lead AND team IS NOT NULL
$$;

-- The teams the person logged in leads, with their agents: the review window's and the team
-- report's team filter (people is not readable by people).
CREATE FUNCTION callcoach.my_teams() RETURNS TABLE (team text, agent_name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, callcoach AS $$
    SELECT p.team, p.agent_name FROM people p JOIN people me ON me.team = p.team AND me.lead
    WHERE me.login = session_user AND p.agent_name IS NOT NULL
$$;

-- What a board's tile shows of a row (callcoach/gui/board/tile_text.py): the talk share in
-- steps of 5 %, dead air in whole seconds from 1 s on. Without a SET clause, so PostgreSQL
-- inlines it (two calls in every status); pg_catalog is searched first anyway.
CREATE FUNCTION callcoach.tile_of(c callcoach.live_calls) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT pg_catalog.jsonb_build_array(c.call_id, c.agent, c.mood_state, c.mood_trend, c.pace_state,
        pg_catalog.floor(c.talk_share * 20 + 0.5), CASE WHEN c.dead_air_s >= 1 THEN pg_catalog.floor(c.dead_air_s) END,
        c.prompt_kind, c.prompt_severity, c.prompt_title, c.escalation, c.handoff_note, c.ended)
$$;

-- A desktop's live status. Returns the supervisor's acknowledgement of this call, if any.
CREATE FUNCTION callcoach.live_v1(status jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, callcoach AS $$
DECLARE
    me text := calling_desktop();
    saved live_calls;
BEGIN
    IF me IS NULL THEN
        RAISE EXCEPTION 'live_v1: only a desktop with its client certificate may share live status'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- A status is worth no wait for the disk: the next one, 2 s later, replaces it.
    -- (Notifying commits queue on one lock for the whole cluster, held through the flush.)
    PERFORM set_config('synchronous_commit', 'off', true);
    INSERT INTO live_calls AS cur (desktop, call_id, agent, started_at, call_s, mood, mood_state, mood_trend,
                                   pace_state, talk_share, dead_air_s, prompt_kind, prompt_severity,
                                   prompt_title, escalation, handoff_note, ended, updated_at)
    VALUES (me, status->>'call_id', status->>'agent', (status->>'started_at')::timestamptz,
            (status->>'call_s')::double precision, (status->>'mood')::double precision, status->>'mood_state',
            status->>'mood_trend', status->>'pace_state', (status->>'talk_share')::double precision,
            (status->>'dead_air_s')::double precision, status->>'prompt_kind', status->>'prompt_severity',
            status->>'prompt_title', coalesce((status->>'escalation')::boolean, false),
            status->>'handoff_note', coalesce((status->>'ended')::boolean, false), now())
    ON CONFLICT (desktop) DO UPDATE SET
        call_id = excluded.call_id, agent = excluded.agent, started_at = excluded.started_at,
        call_s = excluded.call_s, mood = excluded.mood, mood_state = excluded.mood_state,
        mood_trend = excluded.mood_trend, pace_state = excluded.pace_state, talk_share = excluded.talk_share,
        dead_air_s = excluded.dead_air_s, prompt_kind = excluded.prompt_kind,
        prompt_severity = excluded.prompt_severity, prompt_title = excluded.prompt_title,
        escalation = excluded.escalation, handoff_note = excluded.handoff_note, ended = excluded.ended,
        updated_at = now(),
        ack_by = CASE WHEN cur.call_id = excluded.call_id THEN cur.ack_by END,
        ack_at = CASE WHEN cur.call_id = excluded.call_id THEN cur.ack_at END,
        -- The boards hear of a status only when it changes what a tile shows, or when they
        -- last heard of this desktop 5 s ago (the heartbeat that keeps its tile from turning
        -- lost): most statuses of a floor change nothing a supervisor sees, and every
        -- notification takes that one lock.
        notified_at = CASE WHEN tile_of(cur) IS DISTINCT FROM tile_of(excluded)
                                OR cur.notified_at <= now() - interval '5 seconds'
                           THEN now() ELSE cur.notified_at END
    RETURNING * INTO saved;
    IF saved.notified_at = now() THEN
        PERFORM pg_notify(live_channel(team_of(saved.agent)), me);
    END IF;
    RETURN jsonb_build_object('ack_by', saved.ack_by, 'ack_at', saved.ack_at);
END $$;

CREATE OR REPLACE FUNCTION callcoach.server_info() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, callcoach AS $$
    SELECT jsonb_build_object('schema_version', max(version), 'ingest', jsonb_build_array(1),
                              'live', jsonb_build_array(1))
    FROM schema_info
$$;

-- The free-text search for people. Under row-level security the planner may not use the
-- search index for their queries (@@ is not leakproof, so it runs after the policy's check,
-- on every visible row); this function searches as the owner, with the index, and returns
-- only the ids of sessions the person may see.
CREATE FUNCTION callcoach.said(q text) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, callcoach AS $$
    SELECT id FROM sessions
    WHERE to_tsvector('english', coalesce(transcript, '')) @@ websearch_to_tsquery('english', q)
      AND agent IN (SELECT visible_agents())
$$;

-- A supervisor's "I'm coming" for a call of their team; the desktop hears it in the reply
-- to its next status.
CREATE FUNCTION callcoach.acknowledge_v1(desktop_name text, call text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, callcoach AS $$
DECLARE
    agent_name text;
BEGIN
    UPDATE live_calls SET ack_by = session_user, ack_at = now()
    WHERE desktop = desktop_name AND call_id = call AND agent IN (SELECT led_agents())
    RETURNING agent INTO agent_name;
    IF agent_name IS NULL THEN
        RETURN false;
    END IF;
    PERFORM pg_notify(live_channel(team_of(agent_name)), desktop_name);
    RETURN true;
END $$;
"""}

# Run after every step, as the administrator: the grants, so a re-run repairs them.
GRANTS = """
REVOKE ALL ON SCHEMA callcoach FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA callcoach FROM PUBLIC, callcoach_desktop, callcoach_people;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA callcoach FROM PUBLIC, callcoach_desktop, callcoach_people;
GRANT pg_read_all_stats TO callcoach_owner;
GRANT USAGE ON SCHEMA callcoach TO callcoach_desktop, callcoach_people;
GRANT EXECUTE ON FUNCTION callcoach.ingest_v1(jsonb), callcoach.live_v1(jsonb), callcoach.server_info()
    TO callcoach_desktop;
GRANT EXECUTE ON FUNCTION callcoach.server_info(), callcoach.visible_agents(), callcoach.led_agents(),
    callcoach.acknowledge_v1(text, text), callcoach.live_channel(text), callcoach.said(text), callcoach.my_channels(),
    callcoach.my_teams() TO callcoach_people;
GRANT SELECT ON callcoach.sessions, callcoach.live_calls TO callcoach_people;
GRANT UPDATE (qa_score, qa_note) ON callcoach.sessions TO callcoach_people;
"""
