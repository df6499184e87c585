// minna portal: the main page (launch form + My sessions).
import { requireLogin, setupHeader, showPageError } from './api.js';
import { LaunchForm } from './launch.js';
import { SessionList } from './sessions.js';

async function main () {
  const me = await requireLogin();
  setupHeader(me);
  let form = null;
  const sessions = new SessionList(document.getElementById('sessions'), {
    appName: (id) => {
      const app = form && form.apps.find((a) => a.id === id);
      return app ? app.name : id;
    },
    admin: me.admin,
    // a session that started, ended or was stopped changes the queue line
    // and the user's limit: ask again at once
    onChange: () => form && form.refreshQueue(),
  });
  form = new LaunchForm(document.getElementById('launch-form'), {
    me,
    onLaunched: (session) => sessions.add(session),
  });
  await form.load();
  await sessions.refresh();
  document.body.dataset.ready = 'true';
}

main().catch((e) => showPageError(`The portal could not load: ${e.message}`));
