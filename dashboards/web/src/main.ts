/** The dashboard shell: sign-in, header pickers, URL routing, 15 s refresh, keyboard. */
import './style.css';
import { adoptTokenFromFragment, api, getToken, setToken, signOutEverywhere, Unauthorized, whoAmI } from './api.ts';
import type { Context, Rendered } from './context.ts';
import { h, notice } from './dom.ts';
import { hrefOf, lastQuarters, lastYears, readState, type State } from './state.ts';
import type { KpiDescription as KpiDefinition, Principal, TeamSummary as Team } from '@kpi/api-contract';
import { kpiView } from './views/kpi.ts';
import { opsView } from './views/ops.ts';
import { reportsView } from './views/reports.ts';
import { scorecardView } from './views/scorecard.ts';

const REFRESH_MS = 15_000;

let catalog: KpiDefinition[] | null = null;
let teams: Team[] = [];
let current: Rendered | null = null;
let sequence = 0;
let signedIn = false;
/** Who is signed in, and whether sign-in with the organisation's OpenID provider is offered. */
let principal: Principal | null = null;
let oidcOffered = false;
let lastUpdated: Date | null = null;
let busy = false;
/** The KPI the current view shows, if any (to focus its row when going back). */
let shownKpi: string | null = null;

const app = document.getElementById('app')!;
const quarterSelect = h('select', { id: 'quarter', onchange: () => navigate({ quarter: quarterSelect.value }) });
const teamSelect = h('select', { id: 'team', onchange: () => navigate({ team: teamSelect.value, period: null }) });
const updated = h('span', { class: 'updated muted', id: 'updated' }, '');
const who = h('span', { class: 'who', id: 'who' }, '');
const banner = h('div', { class: 'banner', id: 'banner' });
const main = h('main', { id: 'main', tabindex: '-1' });
const navScorecard = h('a', { class: 'tab', 'data-nav': '', href: '?view=scorecard' }, 'Scorecard');
const navOps = h('a', { class: 'tab', 'data-nav': '', href: '?view=ops' }, 'Operations');
const navReports = h('a', { class: 'tab', 'data-nav': '', href: '?view=reports', id: 'nav-reports' }, 'Reports');
const header = h(
  'header',
  { class: 'top' },
  h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, '◆'), ' KPI dashboard'),
  h('nav', { 'aria-label': 'Views' }, navScorecard, navOps, navReports),
  h('div', { class: 'pickers' }, h('label', {}, 'Period ', quarterSelect), h('label', {}, 'Team ', teamSelect)),
  h(
    'div',
    { class: 'session' },
    who,
    updated,
    h('button', { type: 'button', class: 'ghost', id: 'refresh', onclick: () => void render('refresh') }, 'Refresh'),
    h('button', { type: 'button', class: 'ghost', id: 'sign-out', onclick: () => signOut() }, 'Sign out'),
  ),
);

function patchState(patch: Partial<State>): State {
  return { ...readState(), ...patch };
}

function href(patch: Partial<State>) {
  return hrefOf(patchState(patch));
}

let pendingFocus: string | null = null;

function navigate(patch: Partial<State>, options: { replace?: boolean; focus?: string } = {}) {
  const url = href(patch);
  // Remember where we were, for back/forward.
  history.replaceState({ ...(history.state ?? {}), scrollY }, '');
  if (options.replace) history.replaceState({ inApp: history.state?.inApp ?? false }, '', url);
  else history.pushState({ inApp: true }, '', url);
  pendingFocus = options.focus ?? null;
  void render('navigate');
}

function signOut() {
  const leaving = principal;
  principal = null;
  signedIn = false;
  signOutEverywhere(leaving).then(
    () => showSignIn('Signed out.'),
    (error: unknown) => showSignIn(`Signed out here; the sign-out could not be completed: ${error instanceof Error ? error.message : String(error)}`),
  );
}

/** A principal with team scopes reads its teams only: the page opens on the first of them. */
const scopedTeams = () => principal?.teams ?? null;

const context = (state: State): Context => ({
  state,
  principal: principal!,
  catalog: catalog ?? [],
  teams,
  navigate: (patch, options) => navigate(patch, { ...options, focus: patch.period !== undefined && Object.keys(patch).length === 1 ? '#breakdown-title' : undefined }),
  href,
  rerender: () => void render('refresh'),
});

function updateHeader(state: State) {
  // The last eight quarters, then the last three years (a yearly scorecard).
  const quarters = lastQuarters(8);
  const years = lastYears(3);
  const periods = [...quarters, ...years];
  if (!periods.includes(state.quarter)) periods.push(state.quarter);
  const periodKey = periods.join(',');
  if (quarterSelect.dataset.key !== periodKey) {
    const label = (p: string) => (p === quarters[0] ? `${p} (current)` : p === years[0] ? `${p} (year to date)` : years.includes(p) ? `${p} (year)` : p);
    quarterSelect.replaceChildren(...periods.map((p) => h('option', { value: p }, label(p))));
    quarterSelect.dataset.key = periodKey;
  }
  quarterSelect.value = state.quarter;
  // Operational views show what stands now; the period does not apply there.
  quarterSelect.disabled = state.view === 'ops';
  quarterSelect.title = state.view === 'ops' ? 'Operations show the current state; the period applies to the scorecard and KPI views' : '';
  const names = teams.map((t) => t.team);
  if (state.team !== 'all' && !names.includes(state.team)) names.push(state.team);
  const organisation = scopedTeams() === null;
  const teamKey = `${organisation}:${names.join(',')}`;
  if (teamSelect.dataset.key !== teamKey) {
    teamSelect.replaceChildren(...(organisation ? [h('option', { value: 'all' }, 'all — organisation')] : []), ...names.map((name) => h('option', { value: name }, name)));
    teamSelect.dataset.key = teamKey;
  }
  teamSelect.value = state.team;
  navScorecard.setAttribute('href', href({ view: 'scorecard', kpi: null, period: null }));
  navOps.setAttribute('href', href({ view: 'ops', kpi: null, period: null }));
  navReports.setAttribute('href', href({ view: 'reports', kpi: null, period: null }));
  navScorecard.toggleAttribute('aria-current', state.view === 'scorecard' || state.view === 'kpi');
  navOps.toggleAttribute('aria-current', state.view === 'ops');
  navReports.toggleAttribute('aria-current', state.view === 'reports');
  if (state.view === 'scorecard' || state.view === 'kpi') navScorecard.setAttribute('aria-current', 'page');
  if (state.view === 'ops') navOps.setAttribute('aria-current', 'page');
  if (state.view === 'reports') navReports.setAttribute('aria-current', 'page');
}

/** A selector that finds the same control after a re-render. */
function focusKeyOf(element: Element | null): string | null {
  if (!element || element === document.body || !main.contains(element)) return null;
  if (element.id) return `#${CSS.escape(element.id)}`;
  const kpi = element.getAttribute('data-kpi');
  if (kpi) return `[data-kpi="${CSS.escape(kpi)}"]`;
  const key = element.getAttribute('data-focus');
  if (key) return `[data-focus="${CSS.escape(key)}"]`;
  return null;
}

function showError(error: unknown, mode: 'navigate' | 'refresh' | 'pop') {
  const message = error instanceof Error ? error.message : String(error);
  if (mode === 'refresh' && current) {
    banner.replaceChildren(notice('error', `Refresh failed: ${message}. The page shows the last numbers received; it tries again in 15 s.`));
  } else {
    current?.unmount?.();
    current = null;
    main.replaceChildren(h('section', { class: 'view' }, h('h1', { id: 'view-title', tabindex: '-1' }, 'Could not load this view'), notice('error', message), h('button', { type: 'button', onclick: () => void render('navigate') }, 'Try again')));
  }
}

async function render(mode: 'navigate' | 'refresh' | 'pop') {
  if (!signedIn) return;
  const mine = ++sequence;
  const ownTeams = scopedTeams();
  if (ownTeams?.[0] && !ownTeams.includes(readState().team)) history.replaceState(history.state, '', hrefOf(patchState({ team: ownTeams[0] })));
  const state = readState();
  busy = true;
  main.setAttribute('aria-busy', 'true');
  try {
    if (!catalog) catalog = await api.get('/v1/kpis');
    teams = (await api.get('/v1/teams')).teams;
    const ctx = context(state);
    const view = state.view === 'kpi' ? await kpiView(ctx) : state.view === 'ops' ? await opsView(ctx) : state.view === 'reports' ? await reportsView(ctx) : await scorecardView(ctx);
    if (mine !== sequence || !signedIn) return;
    const focusKey = mode === 'refresh' ? focusKeyOf(document.activeElement) : null;
    const previousKpi = shownKpi;
    shownKpi = state.view === 'kpi' ? state.kpi : null;
    const y = scrollY;
    updateHeader(state);
    current?.unmount?.();
    main.replaceChildren(view.node);
    current = view;
    view.mount?.();
    banner.replaceChildren();
    document.title = `${view.title} — KPI dashboard`;
    lastUpdated = new Date();
    updated.textContent = `Updated ${lastUpdated.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })} · every 15 s`;
    if (mode === 'refresh') {
      scrollTo(0, y);
      if (focusKey) (main.querySelector(focusKey) as HTMLElement | null)?.focus({ preventScroll: true });
    } else if (mode === 'pop') {
      scrollTo(0, (history.state as { scrollY?: number } | null)?.scrollY ?? 0);
      // Back from a KPI: the keyboard lands on the KPI it came from.
      const from = previousKpi ? (main.querySelector(`[data-kpi="${CSS.escape(previousKpi)}"]`) as HTMLElement | null) : null;
      from?.focus({ preventScroll: true });
    } else if (pendingFocus && main.querySelector(pendingFocus)) {
      const target = main.querySelector(pendingFocus) as HTMLElement;
      target.focus({ preventScroll: true });
      target.scrollIntoView({ block: 'start' });
    } else {
      scrollTo(0, 0);
      (main.querySelector('#view-title') as HTMLElement | null)?.focus({ preventScroll: true });
    }
    pendingFocus = null;
  } catch (error) {
    if (mine !== sequence) return;
    if (error instanceof Unauthorized && error.status === 401) {
      setToken(null);
      principal = null;
      showSignIn(error.message);
      return;
    }
    showError(error, mode);
  } finally {
    if (mine === sequence) {
      busy = false;
      main.removeAttribute('aria-busy');
    }
  }
}

function showSignIn(message?: string) {
  signedIn = false;
  sequence++;
  current?.unmount?.();
  current = null;
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, spellcheck: 'false', 'aria-describedby': 'token-help' });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'sign-in-error' }, message ?? '');
  const form = h(
    'form',
    {
      class: 'sign-in panel',
      id: 'sign-in',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const token = input.value.trim();
        if (!token) return;
        setToken(token);
        try {
          ({ principal } = await whoAmI());
          if (!principal) throw new Unauthorized(401, 'unknown token');
          catalog = await api.get('/v1/kpis');
          startApp();
        } catch (failure) {
          setToken(null);
          error.textContent = failure instanceof Unauthorized ? failure.message : `Could not reach the API: ${failure instanceof Error ? failure.message : String(failure)}`;
          input.focus();
        }
      },
    },
    h('h1', {}, 'Sign in'),
    // The provider's sign-in comes back to the page it started from.
    oidcOffered
      ? h('p', {}, h('a', { class: 'button primary', id: 'sign-in-oidc', href: `/auth/login?return_to=${encodeURIComponent(`${location.pathname}${location.search}`)}` }, "Sign in with your organisation's account"))
      : null,
    h('p', {}, oidcOffered ? 'Or use an API token (role read or above):' : 'The dashboard reads the KPI API with a bearer token (role read or above).'),
    h('label', { for: 'token' }, 'API token'),
    input,
    h('p', { class: 'muted small', id: 'token-help' }, 'Kept in this browser (localStorage) until you sign out. A link ending in #token=… signs in too.'),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  app.replaceChildren(h('main', { class: 'sign-in-page' }, form));
  document.title = 'Sign in — KPI dashboard';
  input.focus();
}

function startApp() {
  signedIn = true;
  who.textContent = principal ? `${principal.display} · ${principal.role}${principal.teams ? ` · ${principal.teams.join(', ') || 'no team'}` : ''}` : '';
  // The address bar always names the view, so it can be shared and back/forward restore it.
  history.replaceState({ ...(history.state ?? {}), inApp: history.state?.inApp ?? false }, '', `${hrefOf(readState())}${location.hash}`);
  app.replaceChildren(header, banner, main);
  void render('navigate');
}

// Internal links: real hrefs (open in a new tab works), navigated in place on a plain click or Enter.
document.addEventListener('click', (event) => {
  const link = (event.target as Element).closest?.('a[data-nav]') as HTMLAnchorElement | null;
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  const url = new URL(link.href);
  if (url.search === location.search) return;
  history.replaceState({ ...(history.state ?? {}), scrollY }, '');
  history.pushState({ inApp: true }, '', `${url.pathname}${url.search}`);
  void render('navigate');
});

window.addEventListener('popstate', () => void render('pop'));

// Escape goes back from a KPI to where we came from (or the scorecard).
document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape' || !signedIn || event.defaultPrevented) return;
  const target = event.target as HTMLElement;
  if (target.closest('input, textarea, select, [contenteditable="true"]')) return;
  const state = readState();
  if (state.view !== 'kpi') return;
  event.preventDefault();
  if ((history.state as { inApp?: boolean } | null)?.inApp) history.back();
  else navigate({ view: 'scorecard', kpi: null, period: null, tier: 'all' }, { replace: true });
});

setInterval(() => {
  // A navigation still loading wins over the periodic refresh.
  if (signedIn && !document.hidden && !busy) void render('refresh');
}, REFRESH_MS);
document.addEventListener('visibilitychange', () => {
  if (signedIn && !document.hidden && lastUpdated && Date.now() - lastUpdated.getTime() > REFRESH_MS) void render('refresh');
});

/** Signed in already (a token kept here, or the session cookie)? Then the dashboard, else the sign-in page. */
async function boot() {
  adoptTokenFromFragment();
  const hadToken = getToken() !== null;
  try {
    ({ principal, oidc: oidcOffered } = await whoAmI());
  } catch (error) {
    showSignIn(`Could not reach the API: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  if (principal) return startApp();
  setToken(null);
  showSignIn(hadToken ? 'The API refused the token (401). Sign in again.' : undefined);
}
void boot();
