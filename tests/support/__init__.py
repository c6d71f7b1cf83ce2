"""The one test harness. Tests import shared helpers from these modules only; conftest.py
files stay thin and delegate here. Nothing here imports a test module or scripts/.

    paths        repository paths (root, recorded Auth0 payloads in tests/fixtures)
    messages     Singer message lines: parse, records, record ids, last STATE
    tap          the tap in-process through TapAuth0(config, state, catalog); catalogs
    mock_api     a requests-mock Auth0 (fixed domain) serving a FakeSearch; run the tap on it
    mock_tenant  a requests-mock Auth0 tenant for roles and organizations (checkpoint paging)
    fake_search  in-memory stand-in for Auth0 search, and synthetic users for it
    cli          the real `tap-auth0` console script: to completion, or streamed and killable
    stub_http    tiny local HTTP stub server (answers the sandbox cannot give), free ports
    sandbox      the auth0_sandbox: shared/fresh instances for its tests, search, intercept
    recordings   Auth0's SDK cassettes (go-auth0, ruby-auth0) read; ours vs a recorded shape
    recorded_bodies  verbatim recorded Auth0 bodies/headers (users, errors, jobs) as constants
    directory_api  the sandbox's roles/organizations: a big instance, checkpoint walker
    logs_api     the sandbox's tenant logs: log id/Link shapes, recorded events, walker
    figures      figures tests report, printed in the pytest terminal summary
    meltano      Meltano project runner against a sandbox (e2e), plugin checks
    warehouse    reading loader output (DuckDB/PostgreSQL) and comparing it with the truth
    postgres     a PostgreSQL server for e2e tests, scratch schemas, SQLAlchemy URLs
"""
