-- Jobs the worker has done, one row per job taken off the Redis queue.
CREATE TABLE jobs (
    id serial PRIMARY KEY,
    payload text NOT NULL,
    done_at timestamptz NOT NULL DEFAULT now()
);
