import { ALERTS_VIEW } from './alerts.view';
import { COMPLAINTS_VIEW } from './complaints.view';
import { CUSTOMERS_VIEW } from './customers.view';
import { FUNNEL_VIEW } from './funnel.view';
import { PYRAMID_VIEW } from './pyramid.view';

export * from './alerts.view';
export * from './complaints.view';
export * from './customers.view';
export * from './funnel.view';
export * from './pyramid.view';

/** Every view the read side serves. */
export const ALL_VIEWS = [CUSTOMERS_VIEW, ALERTS_VIEW, PYRAMID_VIEW, FUNNEL_VIEW, COMPLAINTS_VIEW];
