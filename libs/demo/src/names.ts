import type { Channel, ComplaintCategory } from '@crm/contracts';
import type { Random } from './random';

/** Vocabulary for plausible Chinese customer master data. */

export interface City {
  name: string;
  /** The waybill system that serves it: `waybill-<region>`. */
  region: 'east' | 'south' | 'north' | 'west';
  weight: number;
}

export const CITIES: readonly City[] = [
  { name: '上海', region: 'east', weight: 12 },
  { name: '杭州', region: 'east', weight: 8 },
  { name: '义乌', region: 'east', weight: 5 },
  { name: '苏州', region: 'east', weight: 5 },
  { name: '南京', region: 'east', weight: 4 },
  { name: '宁波', region: 'east', weight: 3 },
  { name: '合肥', region: 'east', weight: 2 },
  { name: '广州', region: 'south', weight: 10 },
  { name: '深圳', region: 'south', weight: 10 },
  { name: '东莞', region: 'south', weight: 5 },
  { name: '厦门', region: 'south', weight: 3 },
  { name: '福州', region: 'south', weight: 2 },
  { name: '北京', region: 'north', weight: 8 },
  { name: '天津', region: 'north', weight: 3 },
  { name: '青岛', region: 'north', weight: 3 },
  { name: '郑州', region: 'north', weight: 3 },
  { name: '西安', region: 'north', weight: 2 },
  { name: '成都', region: 'west', weight: 5 },
  { name: '重庆', region: 'west', weight: 4 },
  { name: '武汉', region: 'west', weight: 4 },
  { name: '长沙', region: 'west', weight: 3 },
  { name: '昆明', region: 'west', weight: 1 },
];
const CITY_TOTAL = CITIES.reduce((s, c) => s + c.weight, 0);

export function pickCity(rng: Random): City {
  let r = rng.float() * CITY_TOTAL;
  for (const c of CITIES) {
    r -= c.weight;
    if (r < 0) return c;
  }
  return CITIES[0];
}

export interface Industry {
  name: string;
  /** Word used in a company name. */
  trade: string;
}

export const INDUSTRIES: readonly Industry[] = [
  { name: '电商', trade: '电子商务' },
  { name: '服装', trade: '服饰' },
  { name: '3C电子', trade: '电子科技' },
  { name: '生鲜食品', trade: '农产品' },
  { name: '医药', trade: '医药' },
  { name: '汽车配件', trade: '汽车配件' },
  { name: '图书文具', trade: '文化传媒' },
  { name: '美妆', trade: '化妆品' },
  { name: '家居', trade: '家居用品' },
  { name: '制造业', trade: '机械制造' },
  { name: '母婴', trade: '母婴用品' },
  { name: '跨境贸易', trade: '国际贸易' },
  { name: '律所/金融文件', trade: '咨询服务' },
];

const BRAND_CHARS = '锦程华顺达鑫源瑞丰宏泰恒盛通佳美新创联优捷安康悦嘉和信德富利星海天云正明汇博诚金益航远腾骏'.split('');
const COMPANY_SUFFIX = ['有限公司', '有限公司', '有限公司', '贸易有限公司', '股份有限公司', '实业有限公司'];
const SMALL_SUFFIX = ['商行', '网店', '工作室', '经营部', '店'];
const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董'.split('');
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力鹏飞雪琳晨宇浩然子轩欣怡'.split('');

export function personName(rng: Random): string {
  const given = rng.chance(0.6) ? rng.pick(GIVEN) + rng.pick(GIVEN) : rng.pick(GIVEN);
  return rng.pick(SURNAMES) + given;
}

export function companyName(rng: Random, city: City, industry: Industry, small: boolean): string {
  const brand = rng.pick(BRAND_CHARS) + rng.pick(BRAND_CHARS);
  if (small && rng.chance(0.5)) return `${brand}${industry.trade}${rng.pick(SMALL_SUFFIX)}`;
  return `${city.name}${brand}${industry.trade}${rng.pick(COMPANY_SUFFIX)}`;
}

const MOBILE_PREFIXES = ['130', '131', '132', '133', '135', '136', '137', '138', '139', '150', '151', '152', '158', '159', '177', '180', '186', '187', '188', '189', '199'];

export function mobile(rng: Random): string {
  return rng.pick(MOBILE_PREFIXES) + String(rng.int(0, 99_999_999)).padStart(8, '0');
}

export const SMALL_CHANNELS: Readonly<Record<Channel, number>> = { ONLINE: 45, COURIER: 25, HOTLINE: 15, REFERRAL: 10, SALES: 5 };
export const KEY_CHANNELS: Readonly<Record<Channel, number>> = { SALES: 60, REFERRAL: 20, ONLINE: 10, COURIER: 5, HOTLINE: 5 };

export const COMPLAINT_TEXT: Readonly<Record<ComplaintCategory, readonly string[]>> = {
  QUALITY_COMPLAINT: [
    '快件延误，未按承诺时效送达',
    '外包装破损，内件受损',
    '派件员未电话联系直接放驿站',
    '收件员迟到两小时未上门',
    '快件显示签收但本人未收到',
    '客服电话长时间无人接听',
    '分拣错误，快件发往错误城市',
  ],
  QUALITY_SUGGESTION: [
    '建议派件前提前电话告知',
    '建议优化物流轨迹更新频率',
    '希望客服回访更及时',
    '建议加强易碎品包装',
  ],
  DEMAND_SUGGESTION: [
    '希望增加晚间上门取件时段',
    '希望开通月结电子发票',
    '希望提供批量下单接口',
    '希望增加冷链生鲜线路',
    '希望周末也能安排揽收',
  ],
};
