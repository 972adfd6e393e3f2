import { useState } from 'preact/hooks';
import { base, del, get, patch, post, type Member, type Page } from '../api';
import { setQuery, useLocation } from '../router';
import { Confirm, Empty, ErrorBox, Field, Link, Loading, Modal, Pager, When, useLoad, useTitle } from '../ui';

// App Users: every broadcast is a member's, and the appUserId is how the app knows them.
export function Members() {
  useTitle('App Users');
  const { query } = useLocation();
  const prefix = query.get('appUserId') ?? '';
  const page = Number(query.get('page') ?? 0);
  const [search, setSearch] = useState(prefix);
  const [editing, setEditing] = useState<Member | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Member | null>(null);
  const [erasing, setErasing] = useState<Member | null>(null);
  const list = useLoad(
    (signal) => get<Page<Member>>(`${base}/members`, { appUserId: prefix, page, pageSize: 20 }, signal),
    [prefix, page],
  );

  return (
    <section>
      <div class="page-head">
        <h1>App Users</h1>
        <button type="button" class="primary" onClick={() => setEditing('new')}>
          Create
        </button>
      </div>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ appUserId: search.trim(), page: undefined });
        }}
      >
        <div class="field inline">
          <label for="member-search">appUserId starts with</label>
          <input id="member-search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} spellcheck={false} />
        </div>
        <button type="submit" class="secondary">
          Search
        </button>
      </form>
      <ErrorBox error={list.error} retry={list.reload} title="The members could not be loaded" />
      {list.loading && !list.data && <Loading what="members" />}
      {list.data && list.data.empty && (
        <Empty>{prefix ? `No member's appUserId starts with “${prefix}”.` : 'No members yet: create the first one.'}</Empty>
      )}
      {list.data && !list.data.empty && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Members</caption>
            <thead>
              <tr>
                <th scope="col">appUserId</th>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.content.map((m) => (
                <tr key={m.id}>
                  <td>
                    <code>{m.appUserId}</code>
                  </td>
                  <td>{m.appUserName || <span class="muted">—</span>}</td>
                  <td>{m.email || <span class="muted">—</span>}</td>
                  <td>
                    <When at={m.createdAt} />
                  </td>
                  <td class="row-actions">
                    <Link to={`/rooms?appUserId=${encodeURIComponent(m.appUserId)}`}>Rooms</Link>
                    <button type="button" class="secondary small" onClick={() => setEditing(m)}>
                      Edit<span class="visually-hidden"> {m.appUserId}</span>
                    </button>
                    <button type="button" class="danger small" onClick={() => setDeleting(m)}>
                      Delete<span class="visually-hidden"> {m.appUserId}</span>
                    </button>
                    <button type="button" class="danger small" onClick={() => setErasing(m)}>
                      Erase<span class="visually-hidden"> {m.appUserId}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && (
        <Pager
          page={list.data.number}
          totalPages={list.data.totalPages}
          total={list.data.totalElements}
          onPage={(p) => setQuery({ page: p })}
        />
      )}
      {editing && (
        <MemberForm
          member={editing === 'new' ? null : editing}
          onClose={(saved) => {
            setEditing(null);
            if (saved) list.reload();
          }}
        />
      )}
      {deleting && (
        <Confirm
          title={`Delete ${deleting.appUserId}?`}
          action="Delete member"
          danger
          run={() => del(`${base}/members/${encodeURIComponent(deleting.appUserId)}`)}
          onClose={(done) => {
            setDeleting(null);
            if (done) list.reload();
          }}
        >
          <p>
            The member's stream key is revoked, and a broadcast of theirs that is live now is ended at once. This cannot
            be undone.
          </p>
        </Confirm>
      )}
      {erasing && (
        <Confirm
          title={`Erase ${erasing.appUserId}'s personal data?`}
          action="Erase personal data"
          danger
          run={() => post(`${base}/members/${encodeURIComponent(erasing.appUserId)}/erase`)}
          onClose={(done) => {
            setErasing(null);
            if (done) list.reload();
          }}
        >
          <p>
            The member is deleted, and the key that sealed their name, picture, e-mail and custom data is destroyed:
            everywhere onair keeps them (this list, their rooms and posts, the events) they read as erased from now on,
            and Kafka consumers are told to drop their copies. The audit trail keeps every event and still verifies.
            This cannot be undone.
          </p>
        </Confirm>
      )}
    </section>
  );
}

function MemberForm(props: { member: Member | null; onClose: (saved: boolean) => void }) {
  const m = props.member;
  const [v, setV] = useState({
    appUserId: m?.appUserId ?? '',
    appUserName: m?.appUserName ?? '',
    email: m?.email ?? '',
    appUserProfileImgUrl: m?.appUserProfileImgUrl ?? '',
    customType: m?.customType ?? '',
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const set = (k: keyof typeof v) => (e: Event) => setV({ ...v, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <Modal title={m ? `Edit ${m.appUserId}` : 'Create member'} onClose={() => props.onClose(false)}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            if (m) {
              const { appUserId: _id, ...rest } = v;
              await patch(`${base}/members/${encodeURIComponent(m.appUserId)}`, rest);
            } else {
              await post(`${base}/members`, { ...v, appUserId: v.appUserId.trim() });
            }
            props.onClose(true);
          } catch (err) {
            setError(err);
            setBusy(false);
          }
        }}
      >
        <Field id="m-id" label="appUserId (required)" hint="1–64 of A–Z a–z 0–9 _ -; unique in the app; cannot change">
          {(id) => (
            <input
              id={id}
              required
              pattern="[A-Za-z0-9_\-]{1,64}"
              readOnly={!!m}
              spellcheck={false}
              aria-describedby={`${id}-hint`}
              value={v.appUserId}
              onInput={set('appUserId')}
            />
          )}
        </Field>
        <Field id="m-name" label="Name">
          {(id) => <input id={id} value={v.appUserName} onInput={set('appUserName')} />}
        </Field>
        <Field id="m-email" label="Email">
          {(id) => <input id={id} type="email" value={v.email} onInput={set('email')} />}
        </Field>
        <Field id="m-img" label="Profile image URL">
          {(id) => <input id={id} type="url" value={v.appUserProfileImgUrl} onInput={set('appUserProfileImgUrl')} />}
        </Field>
        <Field id="m-type" label="Custom type" hint="at most 50 characters">
          {(id) => (
            <input id={id} maxLength={50} aria-describedby={`${id}-hint`} value={v.customType} onInput={set('customType')} />
          )}
        </Field>
        <ErrorBox error={error} title="Not saved" />
        <div class="actions">
          <button type="button" class="secondary" onClick={() => props.onClose(false)}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Saving…' : m ? 'Save' : 'Create member'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
