SET lock_timeout = '5s';
-- with no table, CLUSTER re-clusters every table clustered before
CLUSTER;
