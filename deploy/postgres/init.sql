-- Runs once in a new cluster, in database shop (docker-compose: /docker-entrypoint-initdb.d;
-- native demo: deploy/stack.sh). pg_stat_statements must be in shared_preload_libraries.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vigil') THEN
    CREATE ROLE vigil LOGIN PASSWORD 'vigil';
  END IF;
END $$;
GRANT pg_monitor TO vigil;
